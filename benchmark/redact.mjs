// Log redaction: rampart's Redactor against fast-redact and @pinojs/redact on the same 32-field
// log object (full rules, and the same job: the 4 paths only), pino lines/s on the request thread
// (no redaction, pino's own `redact`, rampart in-thread via hooks, rampart as a pino transport that
// redacts in pino's worker thread), and redactJson on a clean and a dirty 1 KiB line. One run,
// interleaved rounds, medians.
//
// The path-based libraries get the exact paths of the secret fields (they cannot find secrets by
// key at any depth, nor inside strings); rampart uses its defaults (key rules at any depth and
// every value pattern). The "secrets left" column counts the planted secrets still present in
// each contender's output: fewer is better, and it is why the comparison is not like for like.
import pinoRedact from '@pinojs/redact'
import fastRedact from 'fast-redact'
import pino from 'pino'
import { Redactor } from 'rampart'
import { pinoRedaction, redactedDestination } from 'rampart/logging'

import { QUICK, machine, median, publish, rate, version } from './common.mjs'

const ROUNDS = QUICK ? 1 : 5
const ROUND_MS = QUICK ? 100 : 300

const JWT = 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiI0MiIsImV4cCI6MTk5OTk5OTk5OX0.Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MA'
const PLANTED = ['hunter2', 'Bearer-token-8f3c2a1b9d', 'sid=s3ss10n', 'k-live-123456', JWT, '4111 1111 1111 1111', 'AKIAIOSFODNN7EXAMPLE']

/** 32 leaf fields, as an Express request log line looks. */
function logObject(i) {
  return {
    level: 30,
    time: 1796150000000 + i,
    pid: 4242,
    hostname: 'web-1',
    reqId: `req-${i}`,
    req: {
      method: 'POST',
      url: `/api/login?next=/home&id_token=${JWT}`,
      remoteAddress: '203.0.113.7',
      remotePort: 51234,
      headers: {
        host: 'api.example.com',
        'user-agent': 'Mozilla/5.0 (X11; Linux x86_64)',
        accept: 'application/json',
        'content-type': 'application/json',
        authorization: 'Bearer Bearer-token-8f3c2a1b9d',
        cookie: 'sid=s3ss10n',
        'x-request-id': 'f1e2d3c4',
      },
    },
    user: { id: 42, email: 'ann@example.com', password: 'hunter2', apiKey: 'k-live-123456', roles: ['admin', 'dev'] },
    res: { statusCode: 401, headers: { 'content-length': 37 } },
    responseTime: 12.5,
    err: { type: 'CardError', message: 'card 4111 1111 1111 1111 declined', code: 'E_CARD' },
    deploy: { region: 'eu-west-1', key: 'AKIAIOSFODNN7EXAMPLE', version: '2.4.1' },
    msg: 'request completed',
  }
}
const PATHS = ['req.headers.authorization', 'req.headers.cookie', 'user.password', 'user.apiKey']

const redactor = new Redactor()
const pathsOnly = new Redactor({ keys: [], patterns: [], paths: PATHS })
const fast = fastRedact({ paths: PATHS })
const slow = pinoRedact({ paths: PATHS })
const object = logObject(0)
const leafCount = (value) => (value !== null && typeof value === 'object' ? Object.values(value).reduce((n, v) => n + leafCount(v), 0) : 1)
if (leafCount(object) !== 32) throw new Error(`the log object has ${leafCount(object)} fields, not 32`)

const left = (text) => PLANTED.filter((s) => text.includes(s)).length

const objectCases = [
  { name: 'JSON.stringify alone (no redaction)', run: () => JSON.stringify(object) },
  { name: 'rampart JSON.stringify + redactJson', run: () => redactor.redactJson(JSON.stringify(object)) },
  { name: 'rampart redact (a redacted copy)', run: () => redactor.redact(object), text: (o) => JSON.stringify(o) },
  { name: 'fast-redact (serialize)', run: () => fast(object) },
  { name: '@pinojs/redact (serialize)', run: () => slow(object) },
  { name: 'rampart paths only: JSON.stringify + redactJson', run: () => pathsOnly.redactJson(JSON.stringify(object)), job: 'paths' },
]

function capture() {
  const lines = []
  return { lines, stream: { write: (s) => lines.push(s) } }
}

// The transports' workers (and redactedDestination's native thread) write to /dev/null; the
// request thread only serializes and hands the line over. Between rounds the worker is drained
// (flush), so no backlog from one round is carried into the next; the "sustained" rows count the
// time of that drain too (lines the worker had not yet written when the round ended).
const DEV_NULL = process.platform === 'win32' ? '\\\\.\\NUL' : '/dev/null'
const transport = (target, options) => pino.transport({ target, options })
const pinoCases = [
  { name: 'pino, no redaction', make: (stream) => pino({}, stream) },
  { name: 'pino + rampart pinoRedaction (in-thread)', make: (stream) => pino({ hooks: pinoRedaction(redactor) }, stream) },
  { name: 'pino built-in redact (same 4 paths)', make: (stream) => pino({ redact: PATHS }, stream) },
  {
    name: 'pino + rampart transport (worker thread)',
    make: (stream) => pino(stream),
    stream: () => transport('rampart/logging', { destination: DEV_NULL }),
    check: false,
  },
  {
    name: 'pino + pino/file transport, no redaction (reference)',
    make: (stream) => pino(stream),
    stream: () => transport('pino/file', { destination: DEV_NULL }),
    check: false,
  },
  {
    name: 'pino + rampart redactedDestination (native writer thread)',
    make: (stream) => pino(stream),
    stream: () => redactedDestination({ destination: DEV_NULL }),
    check: false,
    ready: true,
  },
]
const PINO_FIELDS = (i) => {
  const { level, time, pid, hostname, msg, ...rest } = logObject(i)
  void [level, time, pid, hostname]
  return [rest, msg]
}

// Sanity first: every contender produces JSON, and we record what it leaves behind.
for (const c of objectCases) {
  const out = c.run()
  const text = c.text ? c.text(out) : out
  JSON.parse(text)
  c.left = left(text)
}
for (const c of pinoCases) {
  if (c.stream) {
    c.left = c.name.includes('rampart') ? 0 : PLANTED.length
    c.destination = c.stream()
    c.logger = c.make(c.destination)
    if (!c.ready) await new Promise((resolve) => c.destination.once('ready', resolve))
    continue
  }
  const { lines, stream } = capture()
  const log = c.make(stream)
  const [fields, msg] = PINO_FIELDS(0)
  log.info(fields, msg)
  JSON.parse(lines[0])
  c.left = left(lines[0])
  c.logger = c.make({ write() {} })
}
// What the transport writes is checked by __test__/redact-logging.test.mjs (it redacts every
// planted secret: the same Redactor defaults as the in-thread hook).
const drain = (c) => (c.destination ? new Promise((resolve) => c.logger.flush(() => resolve())) : undefined)
const cleanBase = {
  level: 30, time: 1796150000000, pid: 4242, hostname: 'web-1', reqId: 'req-8f14e45f', msg: 'request completed',
  req: { method: 'GET', url: '/api/users/42?page=2&sort=name', remoteAddress: '203.0.113.7', headers: { host: 'api.example.com', accept: 'application/json' } },
  res: { statusCode: 200, headers: { 'content-type': 'application/json; charset=utf-8', 'content-length': 1532 } },
  responseTime: 12.5, items: Array.from({ length: 8 }, (_, i) => ({ id: 1000 + i, name: `item ${i}`, price: 9.99 + i })),
}
const cleanKiB = JSON.stringify({ ...cleanBase, pad: 'x'.repeat(1024 - JSON.stringify({ ...cleanBase, pad: '' }).length) })
if (cleanKiB.length !== 1024) throw new Error('the clean line is not 1 KiB')
if (redactor.redactJson(cleanKiB) !== cleanKiB) throw new Error('the clean line is not clean')
// The same size with secrets in it: a password by key, a bearer token and a card number by value.
const dirtyBase = { ...cleanBase, user: { password: 'hunter2' }, msg: 'charge 4111 1111 1111 1111 with Bearer 8f3c2a1b9d7e6f5a' }
const dirtyKiB = JSON.stringify({ ...dirtyBase, pad: 'x'.repeat(1024 - JSON.stringify({ ...dirtyBase, pad: '' }).length) })
if (dirtyKiB.length !== 1024 || left(redactor.redactJson(dirtyKiB)) !== 0 || redactor.redactJson(dirtyKiB) === dirtyKiB) {
  throw new Error('the dirty line is not 1 KiB with secrets')
}

const results = new Map()
const record = (key, value) => results.set(key, [...(results.get(key) ?? []), value])
let n = 0
for (let round = 0; round < ROUNDS; round++) {
  for (const c of objectCases.map((_, i) => objectCases[(i + round) % objectCases.length])) {
    record(`object|${c.name}`, await rate(c.run, false, ROUND_MS))
  }
  for (const c of pinoCases.map((_, i) => pinoCases[(i + round) % pinoCases.length])) {
    const [fields, msg] = PINO_FIELDS(n++)
    await drain(c)
    const started = performance.now()
    const lines = await rate(() => c.logger.info(fields, msg), false, ROUND_MS)
    const elapsed = performance.now() - started
    record(`pino|${c.name}`, lines)
    const drainStart = performance.now()
    await drain(c)
    if (c.destination) record(`sustained|${c.name}`, (lines * elapsed) / (elapsed + performance.now() - drainStart))
  }
  record('clean|redactJson 1 KiB', await rate(() => redactor.redactJson(cleanKiB), false, ROUND_MS))
  record('dirty|redactJson 1 KiB', await rate(() => redactor.redactJson(dirtyKiB), false, ROUND_MS))
  globalThis.gc?.()
  process.stderr.write('.')
}
process.stderr.write('\n')

const fmt = (r) => Math.round(r).toLocaleString('en-US')
const rows = []
const fastest = (kind, names) => Math.max(...names.map((name) => median(results.get(`${kind}|${name}`))))
const objectPeers = fastest('object', ['fast-redact (serialize)', '@pinojs/redact (serialize)'])
const pinojs = median(results.get('object|@pinojs/redact (serialize)'))
for (const c of objectCases) {
  const r = median(results.get(`object|${c.name}`))
  rows.push(`| object | ${c.name} | ${fmt(r)} | ${(1e6 / r).toFixed(2)} | ${(r / objectPeers).toFixed(2)} | ${c.left} of ${PLANTED.length} |`)
}
const pinoBuiltin = median(results.get('pino|pino built-in redact (same 4 paths)'))
for (const c of pinoCases) {
  const r = median(results.get(`pino|${c.name}`))
  rows.push(`| pino lines | ${c.name} | ${fmt(r)} | ${(1e6 / r).toFixed(2)} | ${(r / pinoBuiltin).toFixed(2)} | ${c.left} of ${PLANTED.length} |`)
}
for (const c of pinoCases.filter((c) => c.destination)) {
  const r = median(results.get(`sustained|${c.name}`))
  rows.push(`| pino lines, sustained (drain included) | ${c.name} | ${fmt(r)} | ${(1e6 / r).toFixed(2)} | ${(r / pinoBuiltin).toFixed(2)} | ${c.left} of ${PLANTED.length} |`)
}
const clean = median(results.get('clean|redactJson 1 KiB'))
rows.push(`| clean 1 KiB line | rampart redactJson | ${fmt(clean)} | ${(1e6 / clean).toFixed(2)} | - | - |`)
const dirty = median(results.get('dirty|redactJson 1 KiB'))
rows.push(`| dirty 1 KiB line (3 secrets) | rampart redactJson | ${fmt(dirty)} | ${(1e6 / dirty).toFixed(2)} | - | 0 of 3 |`)
const pinoRate = (name) => median(results.get(`pino|${name}`))
const pinoPlain = pinoRate('pino, no redaction')
const goals = [
  ['pino + rampart transport vs pino redact (goal >= 1.4x)', pinoRate('pino + rampart transport (worker thread)') / pinoBuiltin],
  ['pino + rampart transport vs pino, no redaction (goal >= 0.9x)', pinoRate('pino + rampart transport (worker thread)') / pinoPlain],
  ['pino + rampart redactedDestination vs pino redact (goal >= 1.4x)', pinoRate('pino + rampart redactedDestination (native writer thread)') / pinoBuiltin],
  ['pino + rampart redactedDestination vs pino, no redaction (goal >= 0.9x)', pinoRate('pino + rampart redactedDestination (native writer thread)') / pinoPlain],
  ['same, sustained (drain included) vs pino redact', median(results.get('sustained|pino + rampart redactedDestination (native writer thread)')) / pinoBuiltin],
  ['pino + rampart in-thread vs pino redact (goal >= 1.0x)', pinoRate('pino + rampart pinoRedaction (in-thread)') / pinoBuiltin],
  ['paths only: rampart vs @pinojs/redact (goal >= 1.5x)', median(results.get('object|rampart paths only: JSON.stringify + redactJson')) / pinojs],
]
const versions = ['fast-redact', '@pinojs/redact', 'pino'].map((name) => `${name} ${version(name)}`).join(', ')
publish(
  'redact',
  [
    `Measured ${machine()}; rampart ${version('rampart')}, ${versions}; ${ROUNDS} interleaved round(s) of ${ROUND_MS} ms per case, median reported.`,
    '',
    '| case | implementation | ops/s | µs/op | speed vs best peer | planted secrets left |',
    '| --- | --- | ---: | ---: | ---: | ---: |',
    ...rows,
    '',
    '| goal (issue 14) | ratio |',
    '| --- | ---: |',
    ...goals.map(([label, ratio]) => `| ${label} | ${ratio.toFixed(2)}x |`),
    `| clean 1 KiB line, native (goal <= 0.8 µs) | ${(1e6 / clean).toFixed(2)} µs |`,
  ].join('\n'),
  [
    { label: 'redaction, object to JSON (finds 7/7 vs 4/7)', ratio: median(results.get('object|rampart JSON.stringify + redactJson')) / objectPeers },
    { label: 'redaction, pino lines/s (finds 7/7 vs 4/7)', ratio: pinoRate('pino + rampart pinoRedaction (in-thread)') / pinoBuiltin },
    { label: 'redaction, pino transport lines/s (request thread)', ratio: pinoRate('pino + rampart transport (worker thread)') / pinoBuiltin },
    { label: 'redaction, pino redactedDestination lines/s (request thread)', ratio: pinoRate('pino + rampart redactedDestination (native writer thread)') / pinoBuiltin },
    { label: 'redaction, same 4 paths only', ratio: median(results.get('object|rampart paths only: JSON.stringify + redactJson')) / objectPeers },
  ],
)
for (const c of pinoCases) c.destination?.end()
