'use strict'
// The package entry point: the native bindings from the generated loader (../index.js), with
// RateLimiter#hit and #peek, JwtSigner#sign and JwtVerifier#verify (./jwt.js), and
// Redactor#redact (./redact.js), on faster paths. Building the result object in native code costs
// about twice the rest of a hit, so the addon writes three numbers into a scratch array and the
// object is built here, where V8 makes it almost free. Types: ../index.d.ts describes the same API.

let native
try {
  native = require('../index.js')
} catch (error) {
  throw require('./load-error.js').noBinaryError(error)
}

// One scratch array per module instance (each worker thread loads its own). The native call is
// synchronous and calls no JavaScript, so it is never used by two calls at once.
const scratch = new Float64Array(3)

// On the WebAssembly fallback a typed array's memory is outside the module's, so writes into the
// scratch array would not be seen: there the native hit/peek are used as they are.
const scratchWorks = native.__napiBindingTarget === undefined || native.__napiBindingTarget === 'native'

class RateLimiter extends native.RateLimiter {
  #limit

  constructor(options) {
    super(options)
    this.#limit = super.limit
  }

  /** @see native.RateLimiter#hit */
  hit(key, cost) {
    if (!scratchWorks) return super.hit(key, cost)
    const allowed = this._apply(key, cost, true, scratch)
    return { allowed, limit: this.#limit, remaining: scratch[0], resetMs: scratch[1], retryAfterMs: scratch[2] }
  }

  /** @see native.RateLimiter#peek */
  peek(key, cost) {
    if (!scratchWorks) return super.peek(key, cost)
    const allowed = this._apply(key, cost, false, scratch)
    return { allowed, limit: this.#limit, remaining: scratch[0], resetMs: scratch[1], retryAfterMs: scratch[2] }
  }
}

const { JwtSigner, JwtVerifier, RemoteJwks } = require('./jwt.js').wrap(native.JwtSigner, native.JwtVerifier)
const Redactor = require('./redact.js').wrap(native.Redactor)

// The spread of require() (not of a variable) lets Node's CommonJS lexer list every binding as a
// named ES module export.
module.exports = { ...require('../index.js'), RateLimiter, JwtSigner, JwtVerifier, Redactor, RemoteJwks }
