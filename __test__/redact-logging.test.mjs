// rampart/logging with real loggers: the winston format field by field (unserializable fields,
// splat, text lines that look like JSON), pino with Buffers, the pino transport (redacts in
// pino's worker thread, writes to a file, fails closed, flushes on exit), and errorHandler's
// production default and URL redaction.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { after, test } from 'node:test'
import { fileURLToPath } from 'node:url'

import pino from 'pino'
import { Redactor } from 'rampart'
import { errorHandler } from 'rampart/express'
import { pinoRedaction, pinoTransport, winstonRedaction } from 'rampart/logging'
import winston from 'winston'

const R = '[REDACTED]'
const redactor = new Redactor()
const root = fileURLToPath(new URL('..', import.meta.url))
const dir = mkdtempSync(join(tmpdir(), 'rampart-logging-'))
after(() => rmSync(dir, { recursive: true, force: true }))

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

const tick = () => new Promise((resolve) => setImmediate(resolve))

function winstonLogger(format) {
  const { lines, stream } = capture()
  const logger = winston.createLogger({ format, transports: [new winston.transports.Stream({ stream })] })
  return { lines, logger }
}

test('winston: a BigInt or a cycle in one field censors that field only; the others are redacted', async () => {
  const { lines, logger } = winstonLogger(winston.format.combine(winston.format.json(), winstonRedaction(redactor)))
  const cycle = { name: 'c' }
  cycle.self = cycle
  const seen = []
  const spy = { transform: (info) => (seen.push({ ...info }), info) }
  const logged = winston.createLogger({ format: winston.format.combine(winstonRedaction(redactor), spy), transports: [new winston.transports.Stream({ stream: capture().stream })] })
  logged.info('login', { password: 'hunter2', count: 10n, cycle, user: 'ann' })
  assert.equal(seen[0].password, R)
  assert.equal(seen[0].count, R)
  assert.deepEqual(seen[0].cycle, { name: 'c', self: R })
  assert.equal(seen[0].user, 'ann')
  // And with format.json() before it, the finished line is redacted too.
  logger.info('login', { password: 'hunter2', cycle, user: 'ann' })
  await tick()
  assert.ok(!lines.join('').includes('hunter2'), lines.join(''))
})

test('winston: the splat copy of the metadata is redacted', () => {
  const seen = []
  const spy = { transform: (info) => (seen.push(info), info) }
  const logger = winston.createLogger({
    format: winston.format.combine(winston.format.splat(), winstonRedaction(redactor), spy),
    transports: [new winston.transports.Stream({ stream: capture().stream })],
  })
  const meta = { password: 'hunter2' }
  logger.info('user %s', 'ann', meta)
  const splat = seen[0][Symbol.for('splat')]
  assert.ok(Array.isArray(splat))
  assert.ok(!JSON.stringify(splat).includes('hunter2'), JSON.stringify(splat))
  assert.equal(meta.password, 'hunter2', 'the caller\'s object is not mutated')
})

test('winston: text lines that start with [, " or { stay text (not swallowed as bad JSON)', async () => {
  const printf = winston.format.printf((info) => `${info.message} token=abc123def`)
  const { lines, logger } = winstonLogger(winston.format.combine(printf, winstonRedaction(redactor)))
  for (const message of ['[worker 3] started', '"quoted" start', '{not json} here']) logger.info(message)
  await tick()
  assert.deepEqual(lines.map((l) => l.trim()), [
    `[worker 3] started token=${R}`,
    `"quoted" start token=${R}`,
    `{not json} here token=${R}`,
  ])
})

test('winston: a throwing getter or toJSON censors that field and the line is still written', async () => {
  const { lines, logger } = winstonLogger(winston.format.combine(winstonRedaction(redactor), winston.format.json()))
  const getter = {
    get boom() {
      throw new Error('nope')
    },
  }
  logger.info('odd', { getter, bad: { toJSON: () => { throw new Error('x') } }, password: 'hunter2' })
  await tick()
  assert.equal(lines.length, 1)
  const line = JSON.parse(lines[0])
  assert.deepEqual(line.getter, { boom: R })
  assert.equal(line.bad, R)
  assert.equal(line.password, R)
})

test('pino: Buffers are not written as readable bytes', () => {
  const { lines, stream } = capture()
  pino({ hooks: pinoRedaction(redactor) }, stream).info({ body: Buffer.from('password=hunter2') })
  assert.deepEqual(JSON.parse(lines[0]).body, { type: 'Buffer', data: R })
})

test('pino transport: lines are redacted in the worker and written to a file; flushed at exit', () => {
  const file = join(dir, 'app.log')
  const script = `
    import pino from 'pino'
    const log = pino(pino.transport({ target: 'rampart/logging', options: { destination: ${JSON.stringify(file)} } }))
    for (let i = 0; i < 2000; i++) log.info({ i, user: { password: 'hunter2' }, url: '/cb?code=SplxlOBeZQQYbYS6' }, 'login')
    log.info({ body: Buffer.from('secret') }, 'last')
  `
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: root, encoding: 'utf8', timeout: 60_000 })
  assert.equal(result.status, 0, result.stderr)
  const lines = readFileSync(file, 'utf8').trimEnd().split('\n')
  assert.equal(lines.length, 2001)
  for (const line of lines) {
    const entry = JSON.parse(line)
    assert.ok(!line.includes('hunter2') && !line.includes('SplxlOBeZQQYbYS6'), line)
    if (entry.user) assert.equal(entry.user.password, R)
  }
  assert.deepEqual(JSON.parse(lines.at(-1)).body, { type: 'Buffer', data: R })
})

test('pino transport: a line that is not JSON, and an unterminated last line, fail closed', async () => {
  const file = join(dir, 'direct.log')
  const stream = await pinoTransport({ destination: file, redact: { keys: ['pin'] } })
  await new Promise((resolve, reject) => {
    stream.on('error', reject)
    stream.write('not json password=hunter2\n{"pin":1234,"a":')
    stream.write('1}\n{"pin":99')
    stream.end(resolve)
  })
  assert.equal(readFileSync(file, 'utf8'), `"${R}"\n{"pin":"${R}","a":1}\n"${R}"\n`)
  await assert.rejects(pinoTransport({ destination: {} }), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' })
})

test('errorHandler: production-safe when NODE_ENV is unset, and logged URLs are redacted', () => {
  const saved = process.env.NODE_ENV
  delete process.env.NODE_ENV
  try {
    const logged = []
    const handler = errorHandler({ logger: { error: (fields) => logged.push(fields) } })
    const respond = (error) => {
      const res = { headersSent: false, statusCode: 0, body: undefined }
      res.status = (code) => ((res.statusCode = code), res)
      res.json = (body) => ((res.body = body), res)
      handler(error, { method: 'GET', originalUrl: '/cb?code=SplxlOBeZQQYbYS6&token=abc123def' }, res, () => {})
      return res
    }
    const boom = respond(new Error('db password=hunter2 failed'))
    assert.deepEqual(boom.body, { error: 'Internal Server Error' })
    const bad = respond(Object.assign(new Error('raw detail'), { status: 400 }))
    assert.deepEqual(bad.body, { error: 'Bad Request' })
    assert.equal(logged[0].req.url, `/cb?code=${R}&token=${R}`)
    process.env.NODE_ENV = 'development'
    const dev = errorHandler({ logger: { error() {} } })
    const res = { headersSent: false }
    res.status = () => res
    res.json = (body) => ((res.body = body), res)
    dev(new Error('boom'), { method: 'GET', url: '/' }, res, () => {})
    assert.equal(res.body.detail, 'boom')
  } finally {
    if (saved === undefined) delete process.env.NODE_ENV
    else process.env.NODE_ENV = saved
  }
})

test('redact(): an array too long to walk (sparse, length 2^32-1) is censored, not copied', async () => {
  const { Redactor } = await import('rampart')
  const huge = []
  huge.length = 2 ** 32 - 1
  const out = new Redactor().redact({ list: huge, ok: 1 })
  assert.equal(out.ok, 1)
  assert.equal(out.list, '[REDACTED]')
})
