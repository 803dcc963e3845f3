// The test-time oracle of crates/segment-mapping: Segment's own, unmodified mapping-kit and
// destination-kit code (the pinned @segment/actions-core in package-lock.json) run over the line
// format of `talon-harness mapping eval|validate` (see the crate docs and CONTRACT.md):
//
//   node eval.mjs eval     [FILE]   {"mapping", "payload"[, "fields"]} -> {"output"} | {"absent":true} | {"error"}
//   node eval.mjs validate [FILE]   {"mapping"}                        -> {"valid":true} | {"error"}
//
// Input is NDJSON from FILE, or stdin when FILE is absent or "-"; one output line per input line,
// in order. Nothing here re-implements Segment's rules: every step calls Segment's code.
import { createRequire } from 'node:module'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { dirname, join } from 'node:path'

const require = createRequire(import.meta.url)
const here = dirname(fileURLToPath(import.meta.url))

// The CommonJS build throughout, so that every module (one ajv instance, one AggregateError
// class) is loaded once, as it is in Segment's own runtime.
const { transform } = require('@segment/actions-core/mapping-kit')
const validateMapping = require('@segment/actions-core/mapping-kit/validate').default
const { fieldsToJsonSchema } = require('@segment/actions-core/destination-kit/fields-to-jsonschema')
const { validateSchema } = require('@segment/actions-core/schema-validation')
// Not in the package's `exports` map, so loaded by its file path (a deep import of dist/).
const { removeEmptyValues } = require(
  join(here, 'node_modules/@segment/actions-core/dist/cjs/remove-empty-values.js')
)

/** An error's text as the line format gives it. */
export function errorMessage(err) {
  // mapping-kit's validator throws an AggregateError (the `aggregate-error` package) whose own
  // `message` is the single errors' stack traces; the line format wants their messages joined by
  // one space. Nested aggregates are flattened (mapping-kit flattens one level itself).
  if (err && err.name === 'AggregateError' && typeof err[Symbol.iterator] === 'function') {
    return [...err].map(errorMessage).join(' ')
  }
  // Everything else, AggregateAjvError included (its message is already joined by one space).
  if (err instanceof Error) return String(err.message)
  return String(err)
}

/**
 * An action with these field definitions, as destination-kit's `Action` constructor builds it: a
 * schema only when there is at least one field, compiled once under its own key (Segment uses
 * "<destination>:<action title>") and reused for every event.
 */
export function makeAction(fields, schemaKey) {
  const schema = Object.keys(fields ?? {}).length ? fieldsToJsonSchema(fields) : undefined
  return { schema, schemaKey }
}

/** The steps of `Action.execute` (destination-kit/action.js) before `perform`. */
export function execute(action, mapping, data) {
  let payload = transform(mapping, data)
  payload = removeEmptyValues(payload, action.schema, true)
  if (action.schema) {
    validateSchema(payload, action.schema, { schemaKey: action.schemaKey, exempt: ['dynamicAuthSettings'] })
  }
  return payload
}

// One action per distinct `fields` text of the input.
const actions = new Map()

/** A line's pipeline: `transform` alone, or with `fields` the whole of `Action.execute`. */
export function runAction(mapping, data, fields) {
  if (fields === undefined) return transform(mapping, data)
  const key = JSON.stringify(fields)
  let action = actions.get(key)
  if (!action) {
    action = makeAction(fields, `oracle:${actions.size}`)
    actions.set(key, action)
  }
  return execute(action, mapping, data)
}

function parseInput(line) {
  let input
  try {
    input = JSON.parse(line)
  } catch (err) {
    return { error: `input: not JSON: ${errorMessage(err)}` }
  }
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    return { error: 'input: a line must be a JSON object' }
  }
  if (!Object.prototype.hasOwnProperty.call(input, 'mapping')) {
    return { error: 'input: the line has no "mapping"' }
  }
  return { input }
}

export function evalLine(line) {
  const { input, error } = parseInput(line)
  if (error) return JSON.stringify({ error })
  let result
  try {
    result = runAction(input.mapping, input.payload, input.fields)
  } catch (err) {
    return JSON.stringify({ error: errorMessage(err) })
  }
  // JavaScript's undefined, or a value JSON cannot write at the top (a function reached through an
  // inherited member such as `$.toString`): both are "no value".
  if (result === undefined || JSON.stringify(result) === undefined) {
    return JSON.stringify({ absent: true })
  }
  return JSON.stringify({ output: result })
}

export function validateLine(line) {
  const { input, error } = parseInput(line)
  if (error) return JSON.stringify({ error })
  try {
    validateMapping(input.mapping)
  } catch (err) {
    return JSON.stringify({ error: errorMessage(err) })
  }
  return JSON.stringify({ valid: true })
}

function main(argv) {
  const [mode, file] = argv
  const run = { eval: evalLine, validate: validateLine }[mode]
  if (!run) {
    process.stderr.write('usage: node eval.mjs eval|validate [FILE|-]\n')
    process.exit(2)
  }
  const text = readFileSync(file === undefined || file === '-' ? 0 : file, 'utf8')
  const lines = text.split('\n')
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop()
  const out = []
  for (const raw of lines) {
    out.push(run(raw.endsWith('\r') ? raw.slice(0, -1) : raw))
  }
  process.stdout.write(out.length ? out.join('\n') + '\n' : '')
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main(process.argv.slice(2))
}
