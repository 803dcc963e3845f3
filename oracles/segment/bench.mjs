// The Node half of segment-mapping's pipeline benchmark (crates/segment-mapping/benches/pipeline.rs
// runs it in the same run as the Rust half, on the same file):
//
//   node bench.mjs EVENTS.ndjson ACTIONS.json [ROUNDS] [OUTPUTS.ndjson]
//
// For every event line, as a Talon.One (Actions) subscription handles it: JSON.parse, then the
// identify subscription (updateCustomerProfileV3) or, for a track event, the track subscription
// (trackEventV2) of ACTIONS.json through Segment's own code (transform, removeEmptyValues,
// validateSchema: `execute` of eval.mjs, which is `Action.execute` before `perform`), then
// JSON.stringify of the payload (or of the error's message). Reading the file is not timed.
// Prints one JSON line: events, the events/s of each round, their median, the error count.
// With OUTPUTS, writes the last round's output lines there (after timing) so the caller can
// check that both sides did the same work.
import { readFileSync, writeFileSync } from 'node:fs'
import { execute, makeAction, errorMessage } from './eval.mjs'

const [eventsFile, actionsFile, roundsArg, outputsFile] = process.argv.slice(2)
if (!eventsFile || !actionsFile) {
  process.stderr.write('usage: node bench.mjs EVENTS.ndjson ACTIONS.json [ROUNDS] [OUTPUTS.ndjson]\n')
  process.exit(2)
}
const rounds = Number(roundsArg ?? 3)
const lines = readFileSync(eventsFile, 'utf8').split('\n').filter((l) => l.length > 0)
const actions = JSON.parse(readFileSync(actionsFile, 'utf8'))
// The schema keys Segment would use: "<destination name>:<action title>".
const identify = {
  mapping: actions.updateCustomerProfileV3.mapping,
  action: makeAction(actions.updateCustomerProfileV3.fields, 'Talon.One (Actions):Update customer profile')
}
const track = {
  mapping: actions.trackEventV2.mapping,
  action: makeAction(actions.trackEventV2.fields, 'Talon.One (Actions):Track event')
}

function pipeline(line) {
  const event = JSON.parse(line)
  const sub = event.type === 'track' ? track : identify
  try {
    // JSON.stringify(undefined) is undefined: written as the text "undefined".
    return JSON.stringify(execute(sub.action, sub.mapping, event)) ?? 'undefined'
  } catch (err) {
    return JSON.stringify({ error: errorMessage(err) })
  }
}

const perSecond = []
let outputs = []
let errors = 0
for (let r = 0; r < rounds; r++) {
  outputs = new Array(lines.length)
  errors = 0
  const start = process.hrtime.bigint()
  for (let i = 0; i < lines.length; i++) {
    const out = pipeline(lines[i])
    if (out.startsWith('{"error":')) errors++
    outputs[i] = out
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9
  perSecond.push(lines.length / seconds)
}
const sorted = [...perSecond].sort((a, b) => a - b)
const median = sorted[Math.floor(sorted.length / 2)]
if (outputsFile) writeFileSync(outputsFile, outputs.join('\n') + '\n')
process.stdout.write(
  JSON.stringify({ events: lines.length, rounds: perSecond.map(Math.round), median: Math.round(median), errors }) + '\n'
)
