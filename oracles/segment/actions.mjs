// The test-time oracle of talon-mapper's Talon.One (Actions) destination: Segment's own,
// unmodified destination code (the pinned @segment/action-destinations in package-lock.json, on
// the pinned @segment/actions-core) run over (settings, subscriptions, event) lines:
//
//   node actions.mjs [FILE]   {"settings", "subscriptions", "event"}
//                          -> {"requests": [{"subscription", "method", "url", "headers", "body"}],
//                              "errors": [{"subscription", "message"}]}
//   node actions.mjs defaults -> one line: {action: {field: default mapping}} for every action
//                                whose fields have a `default` (the mapping Segment's app pre-fills)
//
// Input is NDJSON from FILE, or stdin when FILE is absent or "-"; one output line per input line,
// in order. `subscriptions` is a list as Segment's Public API lists them (`name`, `actionSlug`,
// `enabled`, `trigger`, `settings` = the field mapping, other members ignored). Each enabled one
// becomes the subscription object Segment's runtime hands the destination (`subscribe`,
// `partnerAction`, `mapping`) and goes through `Destination.onSubscription`, the very call
// `onEvent` makes per subscription (trigger parsed and evaluated by Segment's subscription
// grammar, mapping resolved, `removeEmptyValues`, AJV validation, `perform`, request client);
// the one difference: `onEvent` awaits every subscription with `Promise.all` (one failure fails
// the event), here each subscription's failure is reported on its own.
//
// HTTP never leaves the process: actions-core's `fetch` (cross-fetch, node-fetch 2 in Node) is
// replaced by a stub that records the request the request client hands it, after every
// `beforeRequest` hook, and answers 200 with an empty body. Recorded: the method; the URL as
// node-fetch parsed it (WHATWG URL), without its fragment (never sent on the socket); the
// headers as the request holds them (`headers.raw()`: lower-case names in insertion order, the
// order node-fetch writes them); the body text, or null. Transport headers that node-fetch
// itself adds on the socket (accept, accept-encoding, connection, content-length) are not the
// destination's and are not recorded.
import { createRequire } from 'node:module'
import { readFileSync } from 'node:fs'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { dirname, join } from 'node:path'

const require = createRequire(import.meta.url)
const here = dirname(fileURLToPath(import.meta.url))
// Not in the packages' `exports` maps: loaded by file path (the same files the exported entry
// points load, so one module instance each).
const core = join(here, 'node_modules/@segment/actions-core/dist/cjs')
const fetchModule = require(join(core, 'fetch.js'))
const { Destination } = require(join(core, 'destination-kit/index.js'))
const { getAuthData } = require(join(core, 'destination-kit/parse-settings.js'))
const talonOne = require(
  join(here, 'node_modules/@segment/action-destinations/dist/destinations/talon-one/index.js')
).default

let captured = null
fetchModule.default = async (request) => {
  const url = new URL(request.url)
  url.hash = ''
  const headers = []
  // node-fetch keeps header names lower-case in insertion order (the order it writes them).
  const raw = typeof request.headers.raw === 'function' ? request.headers.raw() : null
  if (raw) {
    for (const [name, values] of Object.entries(raw)) headers.push([name.toLowerCase(), values.join(", ")])
  } else {
    for (const [name, value] of request.headers) headers.push([name.toLowerCase(), value])
  }
  const body = request.body == null ? null : await request.text()
  captured.push({ method: request.method, url: url.href, headers, body })
  return new fetchModule.Response('', { status: 200, statusText: 'OK' })
}

const destination = new Destination(talonOne)

function message(err) {
  // mapping-kit's AggregateError carries its errors' stack traces as its message.
  if (Array.isArray(err?.errors) && err.name === 'AggregateError') {
    return err.errors.map((e) => String(e?.message ?? e)).join(' ')
  }
  return String(err?.message ?? err)
}

async function run(line) {
  let input
  try {
    input = JSON.parse(line)
  } catch (err) {
    return { requests: [], errors: [{ subscription: null, message: `input: ${err.message}` }] }
  }
  const { settings = {}, subscriptions = [], event } = input ?? {}
  return runEvent(settings, subscriptions, event)
}

/**
 * One event through every enabled subscription, as Segment's runtime runs them: the answer
 * `{requests, errors}` of one output line. `subscriptions` is a list or `{"subscriptions": [...]}`.
 */
export async function runEvent(settings, subscriptions, event) {
  const list = Array.isArray(subscriptions) ? subscriptions : subscriptions?.subscriptions ?? []
  const requests = []
  const errors = []
  const destinationSettings = destination.getDestinationSettings(settings)
  try {
    destination.validateSettings(destinationSettings)
  } catch (err) {
    return { requests, errors: [{ subscription: null, message: message(err) }] }
  }
  const auth = getAuthData(settings)
  for (const sub of list) {
    if (!sub || sub.enabled === false) continue
    const subscription = {
      subscribe: sub.trigger,
      partnerAction: sub.actionSlug,
      mapping: sub.settings ?? {}
    }
    captured = []
    try {
      const results = await destination.onSubscription(subscription, event, destinationSettings, auth, {})
      for (const result of results ?? []) {
        const output = result?.output
        if (typeof output === 'string' && output.startsWith('Invalid subscription')) {
          errors.push({ subscription: sub.name ?? null, message: output })
        } else if (output === 'Failed to validate subscription') {
          errors.push({ subscription: sub.name ?? null, message: output })
        }
      }
    } catch (err) {
      errors.push({ subscription: sub.name ?? null, message: message(err) })
    }
    for (const request of captured) requests.push({ subscription: sub.name ?? null, ...request })
  }
  return { requests, errors }
}

const isMain = process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href
const file = isMain ? process.argv[2] : undefined
if (!isMain) {
  // Imported (actions-bench.mjs): nothing to read.
} else if (file === 'defaults') {
  const defaults = {}
  for (const [slug, action] of Object.entries(talonOne.actions)) {
    defaults[slug] = {}
    for (const [key, field] of Object.entries(action.fields ?? {})) {
      if (field.default !== undefined) defaults[slug][key] = field.default
    }
  }
  process.stdout.write(JSON.stringify(defaults) + '\n')
} else {
  const text = readFileSync(file && file !== '-' ? file : 0, 'utf8')
  const out = []
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue
    out.push(JSON.stringify(await run(line)) + '\n')
  }
  process.stdout.write(out.join(''))
}
