// Redactor through the package entry point: a corpus of lines with planted secrets of every
// kind (each must go, and nothing else may change), a clean corpus that must come out byte for
// byte, path semantics, censor options, fail-closed input, and the pino and winston integrations
// with real loggers writing to captured streams.
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { Writable } from 'node:stream'
import { test } from 'node:test'

import pino from 'pino'
import { Redactor } from 'rampart'
import { pinoRedaction, winstonRedaction } from 'rampart/logging'
import winston from 'winston'

const R = '[REDACTED]'
const redactor = new Redactor()

const JWT = 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiI0MiIsImV4cCI6MTk5OTk5OTk5OX0.Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MA'
const GH = `ghp_${'A1b2C3d4E5'.repeat(3)}x9Y8Z7`
const PEM = '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7\n-----END PRIVATE KEY-----'
const SLACK = 'xoxb-1234567890123-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx'
const STRIPE = 'sk_live_51HxYzAbCdEfGhIjKlMnOp'
const AWS = 'AKIAIOSFODNN7EXAMPLE'

// [input, expected output]: every planted secret is in the input and absent from the output.
const PLANTED = [
  // Keys, at any depth, in any spelling.
  ['{"password":"hunter2"}', `{"password":"${R}"}`],
  ['{"user":{"Password":"hunter2","name":"ann"}}', `{"user":{"Password":"${R}","name":"ann"}}`],
  ['{"headers":{"X-Api-Key":"k-123","authorization":"Basic dXNlcjpwYXNz","cookie":"sid=1"}}', `{"headers":{"X-Api-Key":"${R}","authorization":"${R}","cookie":"${R}"}}`],
  ['{"API_KEY":"k-123","client_secret":"cs-1","refreshToken":"rt-1"}', `{"API_KEY":"${R}","client_secret":"${R}","refreshToken":"${R}"}`],
  ['{"a":[{"b":[{"accessToken":"t-1"}]}]}', `{"a":[{"b":[{"accessToken":"${R}"}]}]}`],
  ['{"pass\\u0077ord":"hunter2"}', `{"pass\\u0077ord":"${R}"}`],
  ['{"secret":{"nested":"hunter2","n":1}}', `{"secret":"${R}"}`],
  ['{"token":12345678}', `{"token":"${R}"}`],
  ['{"cvv":"123","cardNumber":"4111111111111111"}', `{"cvv":"${R}","cardNumber":"${R}"}`],
  // Values, wherever they are.
  [`{"msg":"GET /cb?id_token=${JWT} 302"}`, `{"msg":"GET /cb?id_token=${R} 302"}`],
  [`{"url":"https://x.example/${JWT}"}`, `{"url":"https://x.example/${R}"}`],
  ['{"h":"Authorization: Bearer 8f3c2a1b9d7e6f5a"}', `{"h":"Authorization: Bearer ${R}"}`],
  ['{"err":"charge failed for 4111 1111 1111 1111 (visa)"}', `{"err":"charge failed for ${R} (visa)"}`],
  ['{"err":"card 5555-5555-5555-4444 declined"}', `{"err":"card ${R} declined"}`],
  [`{"note":"deploy with ${AWS}"}`, `{"note":"deploy with ${R}"}`],
  [`{"key":${JSON.stringify(PEM)}}`, `{"key":"${R}"}`],
  [`{"cfg":${JSON.stringify(`x ${PEM} y`)}}`, `{"cfg":"x ${R} y"}`],
  [`{"m":"pushed with ${GH}"}`, `{"m":"pushed with ${R}"}`],
  [`{"m":"${SLACK}"}`, `{"m":"${R}"}`],
  ['{"m":"hook https://hooks.slack.com/services/T000/B000/XXXXXXXXXXXXXXXX"}', `{"m":"hook https://${R}"}`],
  [`{"m":"stripe ${STRIPE}"}`, `{"m":"stripe ${R}"}`],
  ['{"dsn":"postgres://app:s3cr3t-pw@db.internal:5432/app"}', `{"dsn":"postgres://app:${R}@db.internal:5432/app"}`],
  ['{"path":"/reset?email=a@b.c&token=abc123def&x=1"}', `{"path":"/reset?email=a@b.c&token=${R}&x=1"}`],
  ['{"body":"{\\"password\\":\\"hunter2\\",\\"user\\":\\"ann\\"}"}', `{"body":"{\\"password\\":\\"${R}\\",\\"user\\":\\"ann\\"}"}`],
  ['{"raw":"Cookie: sid=abc123; theme=dark"}', `{"raw":"Cookie: ${R}"}`],
  // Escaped so a plain text search would miss it.
  [`{"m":"\\u0065${JWT.slice(1)}"}`, `{"m":"${R}"}`],
  [`{"stack":"Error: bad key ${AWS}\\n    at f (a.js:1:2)"}`, `{"stack":"Error: bad key ${R}\\n    at f (a.js:1:2)"}`],
  // In arrays, and as bare values.
  [`["${JWT}", 1, {"x":"${STRIPE}"}]`, `["${R}", 1, {"x":"${R}"}]`],
  [`"${GH}"`, `"${R}"`],
]

test('planted secrets of every kind are removed, and nothing else changes', () => {
  for (const [input, expected] of PLANTED) {
    const out = redactor.redactJson(input)
    assert.equal(out, expected, input)
    assert.doesNotThrow(() => JSON.parse(out))
  }
  const everything = PLANTED.map(([input]) => input).join('\n')
  for (const secret of ['hunter2', JWT, GH, SLACK, STRIPE, AWS, '4111 1111 1111 1111', 's3cr3t-pw', 'abc123def', '8f3c2a1b9d7e6f5a']) {
    assert.ok(everything.includes(secret) || everything.includes(JSON.stringify(secret).slice(1, -1)), `corpus plants ${secret}`)
    for (const [input] of PLANTED) assert.ok(!redactor.redactJson(input).includes(secret), `${secret} survived in ${input}`)
  }
})

const CLEAN = [
  '{"level":30,"time":1796150000000,"pid":4242,"hostname":"web-1","reqId":"req-8f14e45f","msg":"request completed"}\n',
  '{"req":{"method":"GET","url":"/api/users/42?page=2&sort=name","remoteAddress":"203.0.113.7"},"res":{"statusCode":200},"responseTime":12.5}',
  '{"orderId":"1234567890123456","invoice":4111111111111112,"ts":1700000000000123,"uuid":"123e4567-e89b-12d3-a456-426614174000"}',
  '{"sha256":"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08","commit":"a94a8fe5ccb19ba61c4c0873d391e987982fbbd3"}',
  '{ "spaced" : [ 1 , 2.5e-3 , -0 , true , false , null ] , "unicode" : "café ✓ \\u00e9 \\ud83d\\ude00", "esc": "line\\nnext \\"q\\" \\\\ /" }',
  '{"msg":"Basic authentication required","hint":"use a bearer token","tokenizer":"none"}',
  '{"email":"ann@example.com","ip":"2001:db8::1","price":"19.99","phone":"+1 555 0100"}',
  '[]',
  '{}',
  '"just a string"',
  '42',
]

test('a clean corpus comes out byte for byte', () => {
  for (const line of CLEAN) assert.equal(redactor.redactJson(line), line)
  // Buffers of the same bytes too.
  for (const line of CLEAN) assert.equal(redactor.redactJson(Buffer.from(line)), line)
})

test('keys match at any depth across case and separators, per the documented rule', () => {
  const r = new Redactor({ keys: ['apiKey'], patterns: [] })
  const out = JSON.parse(r.redactJson(JSON.stringify({ 'X-Api-Key': 1, api_key: 2, APIKEY: 3, userApiKey: 4, api: 5, key: 6, apiKeyId: 7 })))
  assert.deepEqual(out, { 'X-Api-Key': R, api_key: R, APIKEY: R, userApiKey: R, api: 5, key: 6, apiKeyId: R })
  assert.ok(Redactor.defaultKeys().includes('password'))
  assert.deepEqual(new Redactor({ keys: [], patterns: [] }).redactJson('{"password":"x"}'), '{"password":"x"}')
})

test('path rules: exact names, [n], *, [*] and **', () => {
  const r = new Redactor({ keys: [], patterns: [], paths: ['req.headers["x-custom"]', 'items[*].pin', '**.ssn', 'list[1]', '*.meta.id', "a['b.c']"] })
  const input = {
    req: { headers: { 'x-custom': 'v', 'X-Custom': 'case differs' } },
    items: [{ pin: 1 }, { pin: '2', other: 3 }],
    deep: { er: [{ ssn: 'x' }], ssn: 'y' },
    ssn: 'z',
    list: [0, 1, 2],
    one: { meta: { id: 1 } },
    two: { levels: { meta: { id: 2 } } },
    a: { 'b.c': 1, b: { c: 2 } },
  }
  assert.deepEqual(r.redact(input), {
    req: { headers: { 'x-custom': R, 'X-Custom': 'case differs' } },
    items: [{ pin: R }, { pin: R, other: 3 }],
    deep: { er: [{ ssn: R }], ssn: R },
    ssn: R,
    list: [0, R, 2],
    one: { meta: { id: R } },
    two: { levels: { meta: { id: 2 } } },
    a: { 'b.c': R, b: { c: 2 } },
  })
  for (const bad of ['__proto__.x', 'a.constructor', 'a[prototype]', 'a..b', '', 'a.**', 'a[x]']) {
    assert.throws(() => new Redactor({ paths: [bad] }), { code: 'ERR_INVALID_ARG_VALUE' }, bad)
  }
})

test('censor options: fixed text, card last 4, keyed pseudonyms', () => {
  assert.equal(new Redactor({ censor: '***' }).redactJson('{"password":"x"}'), '{"password":"***"}')
  const last4 = new Redactor({ cardMask: 'last4' })
  assert.equal(last4.redactText('paid with 4111 1111 1111 1234?'), 'paid with 4111 1111 1111 1234?')
  assert.equal(last4.redactText('paid with 4111 1111 1111 1111'), 'paid with **** **** **** 1111')
  const key = randomBytes(32)
  const p = new Redactor({ pseudonymKey: key })
  const a = JSON.parse(p.redactJson('{"password":"hunter2","msg":"token=abc123","other":"token=abc123"}'))
  assert.match(a.password, /^\[hmac:[0-9a-f]{16}\]$/)
  assert.equal(a.msg, a.other)
  assert.notEqual(a.password, JSON.parse(p.redactJson('{"password":"hunter3"}')).password)
  assert.notEqual(a.password, JSON.parse(new Redactor({ pseudonymKey: randomBytes(32) }).redactJson('{"password":"hunter2"}')).password)
  assert.throws(() => new Redactor({ pseudonymKey: randomBytes(16) }), { code: 'ERR_OUT_OF_RANGE' })
})

test('unreadable, invalid UTF-8, over-long and over-deep input fails closed', () => {
  for (const bad of ['{"password":', '{"a":1}}', "{'a':1}", '{"a":"\u0001"}', 'undefined', '']) {
    assert.equal(redactor.redactJson(bad), `"${R}"`, bad)
  }
  assert.equal(redactor.redactJson('{"a": nope}\n'), `"${R}"\n`)
  assert.equal(redactor.redactJson(Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d])), `"${R}"`)
  const small = new Redactor({ maxLength: 64 })
  assert.equal(small.redactJson(JSON.stringify({ a: 'x'.repeat(100) })), `"${R}"`)
  assert.equal(small.redactText('y'.repeat(100)), R)
  assert.equal(redactor.redactJson(`${'['.repeat(200)}${']'.repeat(200)}`), `"${R}"`)
  // A 5 MiB line is refused quickly by the default 1 MiB limit; a 900 KiB one is redacted.
  const start = process.hrtime.bigint()
  assert.equal(redactor.redactJson(JSON.stringify({ a: 'x'.repeat(5 << 20) })), `"${R}"`)
  const big = JSON.stringify({ pad: 'y'.repeat(900 << 10), password: 'hunter2', m: `see ${JWT}` })
  const out = redactor.redactJson(big)
  assert.ok(!out.includes('hunter2') && !out.includes(JWT) && out.length > 900 << 10)
  assert.ok(process.hrtime.bigint() - start < 3_000_000_000n)
})

test('redact() returns a copy and never mutates the input', () => {
  const input = { user: { password: 'hunter2', tags: ['a'] }, when: new Date(0), n: 1 }
  const before = structuredClone(input)
  const out = redactor.redact(input)
  assert.deepEqual(input, before)
  assert.deepEqual(out, { user: { password: R, tags: ['a'] }, when: '1970-01-01T00:00:00.000Z', n: 1 })
  assert.notEqual(out.user, input.user)
  assert.equal(redactor.redact(undefined), undefined)
  assert.equal(redactor.redact(() => {}), undefined)
  assert.equal(redactor.redact(`token ${GH}`), `token ${R}`)
  const cyclic = {}
  cyclic.self = cyclic
  // A cycle is censored where it closes (it used to make the whole call throw).
  assert.deepEqual(redactor.redact(cyclic), { self: R })
  // A __proto__ key in input JSON is data, redacted like any other, and pollutes nothing.
  const polluted = JSON.parse(redactor.redactJson('{"__proto__":{"password":"x","isAdmin":true}}'))
  assert.equal({}.isAdmin, undefined)
  assert.deepEqual(Object.getOwnPropertyNames(polluted), ['__proto__'])
})

test('redactText covers messages and stack traces', () => {
  const text = `Error: connect to postgres://svc:pa55word@db:5432/x failed\n    Authorization: Bearer ${JWT}\n    card=4111111111111111 key ${AWS}`
  const out = redactor.redactText(text)
  for (const secret of ['pa55word', JWT, '4111111111111111', AWS]) assert.ok(!out.includes(secret), out)
  assert.ok(out.startsWith('Error: connect to postgres://svc:'))
  assert.equal(redactor.redactText('nothing to see at /api/v1/items?id=7'), 'nothing to see at /api/v1/items?id=7')
})

function capture() {
  const lines = []
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(chunk.toString())
      done()
    },
  })
  return { lines, stream }
}

test('pino: one line to set up, every line redacted before it is written', () => {
  const { lines, stream } = capture()
  const log = pino({ hooks: pinoRedaction(redactor) }, stream)
  log.info({ req: { headers: { authorization: `Bearer ${JWT}` } }, user: { password: 'hunter2' } }, 'login ok')
  log.child({ apiKey: 'k-999' }).warn(`retry with ${STRIPE}`)
  log.error(new Error(`bad key ${AWS}`))
  const output = lines.join('')
  for (const secret of [JWT, 'hunter2', 'k-999', STRIPE, AWS]) assert.ok(!output.includes(secret), `${secret} in ${output}`)
  for (const line of lines) {
    assert.ok(line.endsWith('\n'))
    JSON.parse(line)
  }
  assert.equal(JSON.parse(lines[0]).msg, 'login ok')
  // Options work in place of a Redactor.
  const second = capture()
  pino({ hooks: pinoRedaction({ keys: ['pin'] }) }, second.stream).info({ pin: 1234, password: 'kept' })
  assert.equal(JSON.parse(second.lines[0]).pin, R)
  assert.equal(JSON.parse(second.lines[0]).password, 'kept')
})

test('winston: a format that redacts the finished line and the fields, without touching the caller\'s objects', async () => {
  const { lines, stream } = capture()
  const logger = winston.createLogger({
    format: winston.format.combine(winston.format.timestamp(), winston.format.json(), winstonRedaction(redactor)),
    transports: [new winston.transports.Stream({ stream })],
  })
  const meta = { user: { password: 'hunter2', name: 'ann' } }
  logger.info(`token=${GH}`, meta)
  logger.warn('plain', { authorization: `Bearer ${JWT}` })
  await new Promise((resolve) => setImmediate(resolve))
  const output = lines.join('')
  for (const secret of ['hunter2', GH, JWT]) assert.ok(!output.includes(secret), output)
  assert.equal(JSON.parse(lines[0]).user.name, 'ann')
  assert.equal(meta.user.password, 'hunter2')
  // A cyclic field (an Express request, say) does not break logging, and the line is still redacted.
  const cyclic = { password: 'hunter2' }
  cyclic.self = cyclic
  logger.info('cycle', { cyclic })
  await new Promise((resolve) => setImmediate(resolve))
  assert.ok(lines.at(-1).includes('cycle') && !lines.at(-1).includes('hunter2'), lines.at(-1))
  // With a text (non-JSON) final format, the line is redacted as text.
  const text = capture()
  const simple = winston.createLogger({
    format: winston.format.combine(winston.format.simple(), winstonRedaction(redactor)),
    transports: [new winston.transports.Stream({ stream: text.stream })],
  })
  simple.error(`db postgres://u:pw-123456@h/db`)
  await new Promise((resolve) => setImmediate(resolve))
  assert.ok(!text.lines.join('').includes('pw-123456'))
})

test('bad input gives documented errors, never a crash', () => {
  const TYPE = { code: 'ERR_INVALID_ARG_TYPE', name: 'TypeError' }
  const VALUE = { code: 'ERR_INVALID_ARG_VALUE', name: 'TypeError' }
  for (const bad of [42, 'str', true, []]) assert.throws(() => new Redactor(bad), TYPE)
  for (const option of ['keys', 'paths', 'patterns']) {
    assert.throws(() => new Redactor({ [option]: 'password' }), TYPE)
    assert.throws(() => new Redactor({ [option]: [1] }), TYPE)
    assert.throws(() => new Redactor({ [option]: new Array(1001).fill('a') }), { code: 'ERR_OUT_OF_RANGE' })
  }
  assert.throws(() => new Redactor({ keys: ['--'] }), VALUE)
  assert.throws(() => new Redactor({ patterns: ['ssn'] }), VALUE)
  assert.throws(() => new Redactor({ censor: 5 }), TYPE)
  assert.throws(() => new Redactor({ censor: 'x'.repeat(300) }), { code: 'ERR_OUT_OF_RANGE' })
  assert.throws(() => new Redactor({ cardMask: 'first6' }), VALUE)
  assert.throws(() => new Redactor({ maxLength: 0 }), { code: 'ERR_OUT_OF_RANGE' })
  assert.throws(() => new Redactor({ pseudonymKey: 42 }), TYPE)
  for (const bad of [undefined, null, 42, {}, [], Symbol('s'), 10n, new Uint16Array(2)]) {
    assert.throws(() => redactor.redactJson(bad), TYPE)
    assert.throws(() => redactor.redactText(bad), TYPE)
  }
  assert.equal(new Redactor(undefined).redactJson('{}'), '{}')
  assert.equal(new Redactor(null).redactJson('{}'), '{}')
})
