// The test-time oracle of crates/segment-subscriptions: Segment's own, unmodified subscription
// code (the pinned @segment/destination-subscriptions in package-lock.json, the version that
// @segment/actions-core depends on) run over (trigger, event) pairs:
//
//   node fql.mjs [FILE]   {"trigger", "event"} -> {"match": bool}
//                                              | {"error", "name"}                 (parseFql's error)
//                                              | {"error", "name", "at": "validate"} (validate threw)
//
// Input is NDJSON from FILE, or stdin when FILE is absent or "-"; one output line per input line,
// in order. Nothing here re-implements Segment's rules: `parseFql` and `validate` decide.
import { createRequire } from 'node:module'
import { readFileSync } from 'node:fs'

const require = createRequire(import.meta.url)
const { parseFql, validate } = require('@segment/destination-subscriptions')

const file = process.argv[2]
const input = readFileSync(file && file !== '-' ? file : 0, 'utf8')
const out = []
for (const line of input.split('\n')) {
  if (line.trim() === '') continue
  const { trigger, event } = JSON.parse(line)
  const ast = parseFql(trigger)
  if (ast.error) {
    out.push({ error: String(ast.error.message), name: String(ast.error.name) })
    continue
  }
  try {
    out.push({ match: validate(ast, event) })
  } catch (err) {
    out.push({ error: String(err?.message ?? err), name: String(err?.name ?? 'Error'), at: 'validate' })
  }
}
process.stdout.write(out.map((o) => JSON.stringify(o) + '\n').join(''))
