'use strict'
// On the WebAssembly fallback, napi-rs cannot reject a promise with an error object: it rebuilds
// a plain `Error` (code "GenericFailure") from the message. The addon therefore puts the class
// and code in a prefix of the message there, `[rampart:<code>:<class>] <message>` (see
// `Error::tagged_message` in src/error.rs), and the package entry wraps the async exports with
// `restoreRejection`, which gives back the same error a native build rejects with.

const TAGGED = /^\[rampart:([A-Z][A-Z0-9_]*):(TypeError|RangeError|Error)\] /
const CLASSES = { TypeError, RangeError, Error }

/**
 * The error `error` stands for, if it is a tagged rejection; else `error` itself. An AbortError
 * gets `name: 'AbortError'` and, when it can be read, the signal's reason as `cause`.
 * @param {unknown} error
 * @param {unknown} [options] the call's options (for `options.signal.reason`)
 */
function restoreRejection(error, options) {
  if (!(error instanceof Error)) return error
  const tag = TAGGED.exec(error.message)
  if (tag === null) return error
  const [prefix, code, kind] = tag
  const restored = new CLASSES[kind](error.message.slice(prefix.length))
  restored.code = code
  if (code === 'ABORT_ERR') {
    restored.name = 'AbortError'
    try {
      const reason = options?.signal?.reason
      if (reason !== undefined) restored.cause = reason
    } catch {
      // A throwing getter on the caller's options: the AbortError stays without its cause.
    }
  }
  return restored
}

/** `fn` (an async export) with its rejections restored; `optionsAt` is the options' position. */
function withRestoredRejections(fn, optionsAt) {
  const wrapped = {
    [fn.name](...args) {
      return fn(...args).catch((error) => {
        throw restoreRejection(error, args[optionsAt])
      })
    },
  }[fn.name]
  return wrapped
}

module.exports = { restoreRejection, withRestoredRejections }
