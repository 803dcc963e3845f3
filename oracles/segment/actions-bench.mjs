// The Node half of talon-mapper's Actions benchmark (crates/talon-mapper/benches/actions.rs runs
// it in the same run as the Rust half, on the same file):
//
//   node actions-bench.mjs EVENTS.ndjson SETTINGS.json [SUBSCRIPTIONS.json] [ROUNDS] [OUTPUTS.ndjson]
//
// For every event line, as Segment's runtime handles it for a Talon.One (Actions) destination:
// JSON.parse, then every enabled subscription of SUBSCRIPTIONS.json (default: the typical
// customer's setup, fixtures/actions/subscriptions.json) through Segment's own code (`runEvent` of actions.mjs: trigger
// parsed and evaluated, mapping, removeEmptyValues, validation, `perform`, the request built,
// HTTP intercepted at fetch), then JSON.stringify of the answer ({requests, errors}, the line
// actions.mjs prints). Reading the file is not timed. Prints one JSON line: events, requests and
// errors of the last round, the events/s of each round and their median. With OUTPUTS, writes the
// last round's answer lines there (after timing) so the caller can check both sides' work.
import { readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { dirname, join } from 'node:path'
import { runEvent } from './actions.mjs'

const here = dirname(fileURLToPath(import.meta.url))
const [eventsFile, settingsFile, subscriptionsArg, roundsArg, outputsFile] = process.argv.slice(2)
if (!eventsFile || !settingsFile) {
  process.stderr.write(
    'usage: node actions-bench.mjs EVENTS.ndjson SETTINGS.json [SUBSCRIPTIONS.json] [ROUNDS] [OUTPUTS.ndjson]\n'
  )
  process.exit(2)
}
const subscriptionsFile = subscriptionsArg && subscriptionsArg !== '-' ? subscriptionsArg : join(here, '../../fixtures/actions/subscriptions.json')
const rounds = Number(roundsArg ?? 3)
const lines = readFileSync(eventsFile, 'utf8').split('\n').filter((l) => l.length > 0)
const settings = JSON.parse(readFileSync(settingsFile, 'utf8'))
const subscriptions = JSON.parse(readFileSync(subscriptionsFile, 'utf8'))

const perSecond = []
let outputs = []
let requests = 0
let errors = 0
for (let r = 0; r < rounds; r++) {
  outputs = new Array(lines.length)
  requests = 0
  errors = 0
  const start = process.hrtime.bigint()
  for (let i = 0; i < lines.length; i++) {
    const answer = await runEvent(settings, subscriptions, JSON.parse(lines[i]))
    requests += answer.requests.length
    errors += answer.errors.length
    outputs[i] = JSON.stringify(answer)
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9
  perSecond.push(lines.length / seconds)
}
const sorted = [...perSecond].sort((a, b) => a - b)
const median = sorted[Math.floor(sorted.length / 2)]
if (outputsFile) writeFileSync(outputsFile, outputs.join('\n') + '\n')
process.stdout.write(
  JSON.stringify({
    events: lines.length,
    requests,
    errors,
    rounds: perSecond.map(Math.round),
    median: Math.round(median)
  }) + '\n'
)
