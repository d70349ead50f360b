// rampart/logging's redactedDestination: pino lines redacted on a native writer thread (on
// WebAssembly, on the calling thread) and written to a file. What reaches the file is exactly
// Redactor#redactJson of each line, in order; lines that are not JSON fail closed; a burst far
// beyond the writer's queue arrives whole; lines still buffered when the process exits are
// written; a failing destination is reported once, coded, without log text, and never crashes.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { fileURLToPath } from 'node:url'

import pino from 'pino'
import * as rampart from 'rampart'
import { redactedDestination } from 'rampart/logging'

const { Redactor, LogWriter } = rampart
const R = '[REDACTED]'
const isNative = rampart.__napiBindingTarget === undefined || rampart.__napiBindingTarget === 'native'
const root = fileURLToPath(new URL('..', import.meta.url))
const dir = mkdtempSync(join(tmpdir(), 'rampart-destination-'))
after(() => rmSync(dir, { recursive: true, force: true }))

const flushed = (destination) => new Promise((resolve, reject) => destination.flush((error) => (error ? reject(error) : resolve())))
const JWT = 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiI0MiJ9.Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MA'
const fields = (i) => ({
  i,
  user: { name: 'ann', password: `hunter${i}` },
  req: { url: `/cb?token=${JWT}`, headers: { authorization: `Bearer tok-${i}-8f3c2a1b9d`, 'x-i': `é${i}` } },
  err: { message: `card 4111 1111 1111 1111 declined (${i})` },
})

test('pino: every line reaches the file redacted exactly as redactJson would, in order', async () => {
  const file = join(dir, 'pino.log')
  const destination = redactedDestination({ destination: file })
  const logger = pino({ base: undefined, timestamp: false }, destination)
  const expected = []
  const reference = pino({ base: undefined, timestamp: false }, { write: (line) => expected.push(line) })
  const redactor = new Redactor()
  for (let i = 0; i < 3000; i++) {
    logger.info(fields(i), 'login')
    reference.info(fields(i), 'login')
    // Some lines logged across event-loop turns, most in one synchronous burst.
    if (i % 1000 === 999) await new Promise((resolve) => setImmediate(resolve))
  }
  await flushed(destination)
  const text = readFileSync(file, 'utf8')
  assert.equal(text, expected.map((line) => redactor.redactJson(line)).join(''))
  for (const secret of ['hunter1', 'tok-1-', JWT, '4111 1111']) assert.ok(!text.includes(secret), secret)
  assert.equal(text.split('\n').length, 3001)
  destination.end()
  assert.equal(destination.write('{"late":1}\n'), false, 'a write after end() is refused')
})

test('lines split across writes, text that is not JSON and an unterminated last line', async () => {
  const file = join(dir, 'split.log')
  const destination = redactedDestination({ destination: file, redact: { keys: ['pin'] } })
  destination.write('not json password=hunter2\n{"pin":1234,"a":')
  destination.write('1}\n{"pin":99}\n{"pin":')
  destination.write(Buffer.from('7}\n{"name":"Zo'))
  // 'ë' (two bytes in UTF-8) split across two byte chunks.
  destination.write(Buffer.from([0xc3]))
  destination.write(Buffer.from([0xab, 0x22, 0x7d]))
  await new Promise((resolve) => destination.end(resolve))
  // The unterminated last line is JSON once whole: redacted and given its newline.
  assert.equal(readFileSync(file, 'utf8'), `"${R}"\n{"pin":"${R}","a":1}\n{"pin":"${R}"}\n{"pin":"${R}"}\n{"name":"Zoë"}\n`)
  const truncated = redactedDestination({ destination: join(dir, 'truncated.log'), redact: { keys: ['pin'] } })
  truncated.write('{"ok":1}\n{"pin":12')
  truncated.end()
  assert.equal(readFileSync(join(dir, 'truncated.log'), 'utf8'), `{"ok":1}\n"${R}"\n`)
})

test('a burst far beyond the writer queue (40 MB in one synchronous loop) arrives whole and in order', async () => {
  const file = join(dir, 'burst.log')
  const destination = redactedDestination({ destination: file, append: false })
  const pad = 'x'.repeat(1000)
  for (let i = 0; i < 40_000; i++) destination.write(`{"i":${i},"pwd":"p${i}","pad":"${pad}"}\n`)
  await flushed(destination)
  destination.end()
  const lines = readFileSync(file, 'utf8').split('\n')
  assert.equal(lines.length, 40_001)
  for (const i of [0, 1, 19_999, 39_999]) assert.equal(lines[i], `{"i":${i},"pwd":"${R}","pad":"${pad}"}`)
  assert.ok(lines.every((line, i) => line === '' || line.startsWith(`{"i":${i},`)), 'in order')
})

test('lines still buffered at process exit are written; so are those of a destination never ended', () => {
  for (const exit of ['process.exit(0)', '']) {
    const file = join(dir, `exit-${exit ? 'exit' : 'natural'}.log`)
    const script = `
      const pino = require('pino')
      const { redactedDestination } = require('rampart/logging')
      const logger = pino(redactedDestination({ destination: ${JSON.stringify(file)} }))
      for (let i = 0; i < 5000; i++) logger.info({ i, password: 'hunter2' }, 'm')
      ${exit}`
    const run = spawnSync(process.execPath, ['-e', script], { cwd: root, encoding: 'utf8', timeout: 30_000 })
    assert.equal(run.status, 0, run.stderr)
    const lines = readFileSync(file, 'utf8').trim().split('\n')
    assert.equal(lines.length, 5000, exit || 'natural end')
    assert.equal(JSON.parse(lines[4999]).i, 4999)
    assert.ok(lines.every((line) => JSON.parse(line).password === R))
  }
})

test('a failing destination is reported once, coded, without log text, and never crashes', async (t) => {
  if (!existsSync('/dev/full')) return t.skip('needs /dev/full (Linux): a file that fails every write')
  const destination = redactedDestination({ destination: '/dev/full' })
  const errors = []
  destination.on('error', (error) => errors.push(error))
  destination.write('{"msg":"secret-ish hunter2"}\n')
  const flushError = await new Promise((resolve) => destination.flush(resolve))
  assert.equal(flushError?.code, 'ERR_LOG_WRITE', 'flush(callback) reports the failed write')
  destination.write('{"msg":"more"}\n')
  destination.flushSync()
  await new Promise((resolve) => setTimeout(resolve, 20))
  assert.equal(errors.length, 1)
  assert.equal(errors[0].code, 'ERR_LOG_WRITE')
  assert.ok(!errors[0].message.includes('hunter2'), errors[0].message)
  assert.equal(destination.writable, false)
  assert.equal(destination.write('{"a":1}\n'), false)
  destination.end()
  // With nobody listening for 'error': a process warning, not an uncaught exception.
  const script = `
    const { redactedDestination } = require('rampart/logging')
    process.on('warning', (w) => console.log('warning', w.code))
    const d = redactedDestination({ destination: '/dev/full' })
    d.write('{"a":1}\\n')
    d.flushSync()`
  const run = spawnSync(process.execPath, ['-e', script], { cwd: root, encoding: 'utf8', timeout: 30_000 })
  assert.equal(run.status, 0, run.stderr)
  assert.match(run.stdout, /warning ERR_LOG_WRITE/)
})

test('bad options are refused with TypeError codes; an unopenable file with ERR_LOG_WRITE', () => {
  for (const options of [undefined, null, 'x', [], {}, { destination: 0 }, { destination: 3 }, { destination: '' }, { destination: {} }, { destination: 1, append: 'no' }]) {
    assert.throws(() => redactedDestination(options), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' }, JSON.stringify(options))
  }
  assert.throws(() => redactedDestination({ destination: join(dir, 'missing', 'dir', 'x.log') }), { code: 'ERR_LOG_WRITE' })
  const made = redactedDestination({ destination: join(dir, 'made', 'dir', 'x.log'), mkdir: true })
  made.end()
  assert.throws(() => redactedDestination({ destination: 1, redact: { keys: 'password' } }), { name: 'TypeError' })
})

test('LogWriter: the native writer behind it (write, flush, close, use after close)', (t) => {
  if (!isNative) {
    assert.throws(() => new LogWriter({ destination: join(dir, 'wasm.log') }), { code: 'ERR_LOG_WRITE' })
    return t.skip('no native threads on WebAssembly: redactedDestination writes on the calling thread there (tested above)')
  }
  const file = join(dir, 'native.log')
  const writer = new LogWriter({ destination: file, append: false, redact: { keys: ['otp'] } })
  writer.write('{"otp":"123456","password":"kept: not a key rule here"}\n')
  writer.flush()
  assert.equal(writer.isIdle(), true)
  assert.equal(readFileSync(file, 'utf8'), `{"otp":"${R}","password":"kept: not a key rule here"}\n`)
  assert.throws(() => writer.write(42), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' })
  writer.close()
  writer.close()
  assert.throws(() => writer.write('{}\n'), { code: 'ERR_LOG_WRITE', message: /closed/ })
  for (const options of [undefined, {}, { destination: '' }, { destination: 'a\0b' }, { destination: 1, append: 1 }]) {
    assert.throws(() => new LogWriter(options), { name: 'TypeError' }, JSON.stringify(options))
  }
  assert.throws(() => new LogWriter({ destination: 3 }), { name: 'RangeError', code: 'ERR_OUT_OF_RANGE' })
  // Collected without close(): what was appended (not yet handed over) is still written.
  const collected = join(dir, 'collected.log')
  const script = `
    const { LogWriter } = require('rampart')
    ;(() => { new LogWriter({ destination: ${JSON.stringify(collected)} })._bound()[0]('{"pwd":"x"}\\n') })()
    gc(); setTimeout(() => { gc(); setTimeout(() => {}, 300) }, 20)`
  const run = spawnSync(process.execPath, ['--expose-gc', '-e', script], { cwd: root, encoding: 'utf8', timeout: 30_000 })
  assert.equal(run.status, 0, run.stderr)
  assert.equal(readFileSync(collected, 'utf8'), `{"pwd":"${R}"}\n`)
})
