'use strict'
// `rampart/logging`: a Redactor with pino and winston.
//
// - `pinoRedaction(redactor)`: pino hooks; each finished line is redacted on the calling thread.
// - this module itself is a pino transport (`pino.transport({ target: 'rampart/logging' })`):
//   lines are redacted in pino's worker thread and written to a file descriptor or a file, so the
//   request thread spends nothing on redaction.
// - `redactedDestination(options)` (./destination.js): a pino destination whose lines are
//   redacted and written by a native thread; cheaper for the request thread than the transport.
// - `winstonRedaction(redactor)`: a winston format; every field, the splat copy of the metadata
//   and the finished line are redacted, field by field.
//
// Failure policy: fail closed. A line that is not JSON, too long or too deep is written as the
// censor (a JSON string), never raw; a field that cannot be serialized is censored, and the other
// fields are still redacted and logged.

const fs = require('node:fs')
const path = require('node:path')
const { Writable } = require('node:stream')

const { Redactor } = require('./index.js')
const { safeJson, censorOf } = require('./redact.js')
const { redactedDestination, LineRedactor, writeAll } = require('./destination.js')

const MESSAGE = Symbol.for('message')
const SPLAT = Symbol.for('splat')

function redactorFrom(redactorOrOptions) {
  return redactorOrOptions instanceof Redactor ? redactorOrOptions : new Redactor(redactorOrOptions)
}

/**
 * pino hooks: `pino({ hooks: pinoRedaction(redactor) })`. Each line is redacted just before it is
 * written (pino's `hooks.streamWrite`), in one native pass, on the thread that logs.
 * @param {import('./logging').RedactorLike} [redactorOrOptions] a Redactor, or options for a new one
 */
function pinoRedaction(redactorOrOptions) {
  const redactor = redactorFrom(redactorOrOptions)
  return { streamWrite: (line) => redactor.redactJson(line) }
}

/** `line` redacted as JSON when it parses as JSON, else as text. */
function redactLine(redactor, line) {
  let json = true
  try {
    JSON.parse(line)
  } catch {
    json = false
  }
  return json ? redactor.redactJson(line) : redactor.redactText(line)
}

/**
 * A winston (logform) format: put it last, `format.combine(format.timestamp(), format.json(),
 * winstonRedaction(redactor))`. It redacts each `info` field (key rules apply to the field
 * names), the `Symbol.for('splat')` copy of the metadata, and the finished line
 * (`info[Symbol.for('message')]`, as JSON when it parses as JSON, else as text).
 * @param {import('./logging').RedactorLike} [redactorOrOptions]
 */
function winstonRedaction(redactorOrOptions) {
  const redactor = redactorFrom(redactorOrOptions)
  const censor = () => censorOf(redactor)
  /** One field, redacted as the member `key` of an object so that key rules see its name. */
  const field = (key, value) => {
    if (value === undefined || typeof value === 'function' || typeof value === 'symbol') return value
    try {
      const json = safeJson({ [key]: value }, censor())
      if (json === undefined) return value
      return JSON.parse(redactor.redactJson(json))[key]
    } catch {
      return censor()
    }
  }
  return {
    transform(info) {
      // `info` is winston's own object, but its values may be the caller's: replace, never mutate them.
      for (const key of Object.keys(info)) {
        if (key === 'level') continue
        info[key] = field(key, info[key])
      }
      const splat = info[SPLAT]
      if (Array.isArray(splat)) info[SPLAT] = splat.map((item) => field('splat', item))
      const line = info[MESSAGE]
      if (typeof line === 'string') {
        try {
          info[MESSAGE] = redactLine(redactor, line)
        } catch {
          info[MESSAGE] = censor()
        }
      }
      return info
    },
  }
}

/**
 * The pino transport: `pino(pino.transport({ target: 'rampart/logging', options }))`. Runs in
 * pino's worker thread: each line is redacted there (one native pass) and written, synchronously,
 * to `options.destination` (a file descriptor, default 1 = stdout, or a file path, appended to).
 * A line that is not JSON is written as the censor; a write error ends the stream (pino reports
 * it); nothing is ever written unredacted. Lines are written as they arrive, so nothing is left
 * to flush at exit but an unterminated last line, redacted as a line (the censor unless it is JSON).
 * @param {import('./logging').PinoTransportOptions} [options]
 */
async function pinoTransport(options = {}) {
  const { destination = 1, mkdir = false, append = true, redact } = options ?? {}
  const redactor = new Redactor(redact)
  let fd
  let own = false
  if (typeof destination === 'number' && Number.isInteger(destination) && destination >= 0) {
    fd = destination
  } else if (typeof destination === 'string' && destination !== '') {
    if (mkdir) fs.mkdirSync(path.dirname(destination), { recursive: true })
    fd = fs.openSync(destination, append ? 'a' : 'w')
    own = true
  } else {
    const error = new TypeError('The "options.destination" option must be a file descriptor or a file path')
    error.code = 'ERR_INVALID_ARG_TYPE'
    throw error
  }
  const lines = new LineRedactor(redactor)
  return new Writable({
    decodeStrings: false,
    write(chunk, _encoding, callback) {
      try {
        const out = lines.push(typeof chunk === 'string' ? chunk : chunk.toString('utf8'))
        if (out) writeAll(fd, Buffer.from(out))
        callback()
      } catch (error) {
        callback(error)
      }
    },
    final(callback) {
      try {
        // An unterminated last line is redacted as a line: the censor unless it is whole JSON.
        const out = lines.finish()
        if (out) writeAll(fd, Buffer.from(out))
        if (own) fs.closeSync(fd)
        callback()
      } catch (error) {
        callback(error)
      }
    },
  })
}

module.exports = pinoTransport
module.exports.default = pinoTransport
module.exports.pinoTransport = pinoTransport
module.exports.pinoRedaction = pinoRedaction
module.exports.winstonRedaction = winstonRedaction
module.exports.redactedDestination = redactedDestination
