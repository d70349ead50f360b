'use strict'
// `redactedDestination(options)`: a log destination for pino (or anything that writes whole
// lines to a stream) that redacts off the request thread. `write` copies the line into a native
// buffer (one bound-function call) and returns; once per event-loop turn, or every 64 Ki
// characters, the buffer is handed to a native writer thread (src/redact/writer.rs), which
// redacts each line as JSON and writes it to stdout, stderr or a file. The request thread pays
// for a copy, not for redaction and not for a hand-over per line.
//
// Failure policy: fail closed. Only redacted text is written: a line that is not JSON, too long
// is written as the censor (an
// unterminated last line is redacted at `end()` like any other). After a write error nothing more is
// written; the error is emitted once ('error' event, or a process warning when nobody listens:
// never an uncaught exception) and later lines are dropped. Lines still buffered at process exit
// are written by an 'exit' hook. On WebAssembly (no native threads) the same lines are
// redacted and written synchronously on the calling thread.

const { EventEmitter } = require('node:events')
const { StringDecoder } = require('node:string_decoder')
const fs = require('node:fs')
const path = require('node:path')

const rampart = require('./index.js')
const { censorOf } = require('./redact.js')

/** Destinations not yet ended, flushed by one 'exit' hook. */
const live = new Set()
let hooked = false
function flushAllAtExit() {
  for (const destination of live) {
    try {
      destination.flushSync()
    } catch {
      // Reported through the destination's own 'error'/warning path.
    }
  }
}

function typeError(message) {
  const error = new TypeError(message)
  error.code = 'ERR_INVALID_ARG_TYPE'
  return error
}

/**
 * Redacts a stream of text line by line: whole lines are redacted as JSON (a line that is not
 * JSON becomes the censor); the start of a line waits for its end.
 */
class LineRedactor {
  #redactor
  #partial = ''

  constructor(redactor) {
    this.#redactor = redactor
  }

  /** The redacted whole lines of `text` (preceded by what was left over). */
  push(text) {
    const all = this.#partial + text
    const last = all.lastIndexOf('\n')
    if (last === -1) {
      this.#partial = all
      return ''
    }
    this.#partial = all.slice(last + 1)
    let out = ''
    let start = 0
    for (let end = all.indexOf('\n'); end !== -1 && end <= last; end = all.indexOf('\n', start)) {
      out += this.#line(all.slice(start, end + 1))
      start = end + 1
    }
    return out
  }

  /** What is left: an unterminated last line, redacted as a line (the censor unless it is JSON). */
  finish() {
    const rest = this.#partial
    this.#partial = ''
    return rest === '' ? '' : this.#line(`${rest}\n`)
  }

  #line(line) {
    try {
      const out = this.#redactor.redactJson(line)
      // Anything but a string (a WebAssembly runtime shutting down answers undefined) fails closed.
      if (typeof out === 'string') return out
      return `${JSON.stringify(censorOf(this.#redactor))}\n`
    } catch {
      return `${JSON.stringify(censorOf(this.#redactor))}\n`
    }
  }
}

/** Writes all of `buffer` to `fd`, waiting out EAGAIN on non-blocking pipes. */
function writeAll(fd, buffer) {
  let offset = 0
  while (offset < buffer.length) {
    try {
      offset += fs.writeSync(fd, buffer, offset)
    } catch (error) {
      if (error.code !== 'EAGAIN') throw error
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1)
    }
  }
}

/** The WebAssembly stand-in for the native LogWriter: the same lines, on the calling thread. */
class SyncLogWriter {
  #fd
  #own
  #lines
  #error = null
  #closed = false

  constructor({ destination, append = true, redact }) {
    this.#lines = new LineRedactor(new rampart.Redactor(redact))
    this.#own = typeof destination === 'string'
    try {
      this.#fd = this.#own ? fs.openSync(destination, append === false ? 'w' : 'a') : destination
    } catch (error) {
      throw Object.assign(new Error(`could not open ${JSON.stringify(destination)}: ${error.code ?? error.message}`), { code: 'ERR_LOG_WRITE' })
    }
  }

  /** Lines redacted but not yet written. They are redacted as they come, not at the hand-over:
   * at process exit the WebAssembly runtime may be gone, and only writing is left to do then. */
  #redacted = ''

  write(text) {
    this.append(text)
    this._handOver()
  }

  /** `write` without the write (which happens at `_handOver()`, `flush()` and `close()`). */
  append(text) {
    this.#check()
    this.#redacted += this.#lines.push(text)
  }

  _handOver() {
    const text = this.#redacted
    this.#redacted = ''
    this.#out(text)
  }

  flush() {
    this._handOver()
    if (this.#error) throw this.#error
  }

  isIdle() {
    return true
  }

  close() {
    if (this.#closed) return
    if (!this.#error) this._handOver()
    this.#closed = true
    if (!this.#error) this.#out(this.#lines.finish())
    if (this.#own) fs.closeSync(this.#fd)
    if (this.#error) throw this.#error
  }

  #check() {
    if (this.#error) throw this.#error
    if (this.#closed) throw Object.assign(new Error('the log writer is closed'), { code: 'ERR_LOG_WRITE' })
  }

  #out(text) {
    if (text === '') return
    try {
      writeAll(this.#fd, Buffer.from(text))
    } catch (error) {
      this.#error = Object.assign(new Error(`the log destination failed: ${error.code ?? 'write error'}; nothing more is written`), { code: 'ERR_LOG_WRITE' })
      throw this.#error
    }
  }
}

const isNative = rampart.LogWriter !== undefined && (rampart.__napiBindingTarget === undefined || rampart.__napiBindingTarget === 'native')

class RedactedDestination extends EventEmitter {
  #writer
  /** Appends a chunk on the native side (a bound function: no class-method cost per line). */
  #append
  /** For byte chunks, created on the first one. */
  #decoder
  #appended = false
  #scheduled = false
  #ended = false
  #failed = false

  constructor(writer) {
    super()
    this.#writer = writer
    this.#append = writer instanceof SyncLogWriter ? (text) => writer.append(text) : writer._bound()[0]
    live.add(this)
    if (!hooked) {
      hooked = true
      process.on('exit', flushAllAtExit)
    }
  }

  /** `true` until ended or failed (pino also reads it to tell a stream from options). */
  get writable() {
    return !this.#ended && !this.#failed
  }

  /** Queues `chunk` (a string, or UTF-8 bytes); `false` once ended or failed (then it is dropped). */
  write(chunk) {
    if (typeof chunk !== 'string') {
      if (!ArrayBuffer.isView(chunk)) throw typeError('The "chunk" argument must be a string or a Uint8Array')
      // A character split across two byte chunks is decoded whole.
      this.#decoder ??= new StringDecoder('utf8')
      chunk = this.#decoder.write(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength))
    }
    if (this.#ended || this.#failed) return false
    try {
      this.#append(chunk)
    } catch (error) {
      this.#fail(error)
      return false
    }
    this.#appended = true
    if (!this.#scheduled) {
      this.#scheduled = true
      setImmediate(this.#onTurn)
    }
    return true
  }

  /** Blocks until every line written so far is at the destination. */
  flushSync() {
    this.#handOver()
    if (this.#failed || this.#ended) return
    try {
      this.#writer.flush()
    } catch (error) {
      this.#fail(error)
    }
  }

  /** Calls `callback(error?)` once every line written so far is at the destination. */
  flush(callback = () => {}) {
    this.#handOver()
    const check = () => {
      if (this.#failed) return callback(this.#error)
      if (this.#ended) return callback(null)
      if (!this.#writer.isIdle()) return setTimeout(check, 1)
      // Idle: this returns at once, and throws if a write of the last batch failed.
      this.flushSync()
      callback(this.#failed ? this.#error : null)
    }
    check()
  }

  /** Writes what is left (an unterminated last line redacted as a line) and closes the destination. */
  end(callback) {
    if (!this.#ended) {
      this.#handOver()
      this.#ended = true
      live.delete(this)
      try {
        this.#writer.close()
      } catch (error) {
        this.#fail(error)
      }
      process.nextTick(() => {
        this.emit('finish')
        this.emit('close')
      })
    }
    if (typeof callback === 'function') process.nextTick(callback)
    return this
  }

  destroy() {
    return this.end()
  }

  #onTurn = () => {
    this.#scheduled = false
    this.#handOver()
  }

  #handOver() {
    if (!this.#appended || this.#failed || this.#ended) return
    this.#appended = false
    try {
      this.#writer._handOver()
    } catch (error) {
      this.#fail(error)
    }
  }

  #error = null

  #fail(error) {
    if (this.#failed) return
    this.#failed = true
    this.#error = error
    live.delete(this)
    process.nextTick(() => {
      if (this.listenerCount('error') > 0) this.emit('error', error)
      else process.emitWarning(`rampart redactedDestination: ${error.message}`, { code: error.code })
    })
  }
}

/**
 * A destination for `pino(redactedDestination({ destination: '/var/log/app.log' }))`.
 * @param {import('./logging').RedactedDestinationOptions} options
 */
function redactedDestination(options) {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw typeError('The "options" argument must be of type object')
  }
  const { destination, append = true, mkdir = false, redact } = options
  const valid = destination === 1 || destination === 2 || (typeof destination === 'string' && destination !== '' && !destination.includes('\0'))
  if (!valid) throw typeError('The "options.destination" option must be 1, 2 or a file path')
  if (typeof append !== 'boolean' || typeof mkdir !== 'boolean') throw typeError('The "options.append" and "options.mkdir" options must be booleans')
  if (mkdir && typeof destination === 'string') fs.mkdirSync(path.dirname(destination), { recursive: true })
  const writer = isNative ? new rampart.LogWriter({ destination, append, redact }) : new SyncLogWriter({ destination, append, redact })
  return new RedactedDestination(writer)
}

module.exports = { redactedDestination, LineRedactor, writeAll }
