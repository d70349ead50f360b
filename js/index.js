'use strict'
// The package entry point: the native bindings from the generated loader (../index.js), with
// RateLimiter#hit and #peek, JwtSigner#sign and JwtVerifier#verify (./jwt.js), and
// Redactor#redact (./redact.js), on faster paths. Building the result object in native code costs
// about twice the rest of a hit, so the addon leaves three numbers in per-thread scratch memory
// (src/ratelimit/fast.rs) and the object is built here, where V8 makes it almost free. Types:
// ./index.d.ts describes the classes as users get them.

let native
try {
  native = require('../index.js')
} catch (error) {
  throw require('./load-error.js').noBinaryError(error)
}

// The fast hit/peek read their numbers from memory the addon writes (see
// src/ratelimit/fast.rs): one ArrayBuffer per thread, private to this module. On the
// WebAssembly fallback, or where a runtime refuses external buffers, the native hit/peek (which
// build the result object themselves) are used as they are.
const isNative = native.__napiBindingTarget === undefined || native.__napiBindingTarget === 'native'
let scratch = null
if (isNative) {
  try {
    scratch = new Float64Array(native._rateLimitScratch())
  } catch {
    scratch = null
  }
}

class RateLimiter extends native.RateLimiter {
  #limit
  #hit
  #peek

  constructor(options) {
    super(options)
    this.#limit = super.limit
    if (scratch !== null) [this.#hit, this.#peek] = this._bound()
  }

  /** @see native.RateLimiter#hit */
  hit(key, cost) {
    if (scratch === null) return super.hit(key, cost)
    const allowed = this.#hit(key, cost)
    return { allowed, limit: this.#limit, remaining: scratch[0], resetMs: scratch[1], retryAfterMs: scratch[2] }
  }

  /** @see native.RateLimiter#peek */
  peek(key, cost) {
    if (scratch === null) return super.peek(key, cost)
    const allowed = this.#peek(key, cost)
    return { allowed, limit: this.#limit, remaining: scratch[0], resetMs: scratch[1], retryAfterMs: scratch[2] }
  }
}

const { JwtSigner, JwtVerifier, RemoteJwks } = require('./jwt.js').wrap(native.JwtSigner, native.JwtVerifier, isNative)
const Redactor = require('./redact.js').wrap(native.Redactor, isNative)
const { RedisRateLimiter } = require('./redis.js')

// The spread of require() (not of a variable) lets Node's CommonJS lexer list every binding as a
// named ES module export.
const Totp = require('./totp.js').wrap(native.Totp)

// On WebAssembly the async password calls reject with the error's class and code carried in the
// message (napi-rs cannot pass the object there); ./wasm-errors.js rebuilds the native error.
const asyncExports = {}
if (!isNative) {
  const { withRestoredRejections } = require('./wasm-errors.js')
  asyncExports.hashPassword = withRestoredRejections(native.hashPassword, 1)
  asyncExports.verifyPassword = withRestoredRejections(native.verifyPassword, 2)
}

module.exports = { ...require('../index.js'), RateLimiter, JwtSigner, JwtVerifier, Redactor, RedisRateLimiter, Totp, RemoteJwks, ...asyncExports }
