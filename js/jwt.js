'use strict'
// JwtSigner and JwtVerifier on their fast paths: JSON.stringify / JSON.parse run here, in V8,
// and the addon signs or verifies the JSON text (building objects through N-API costs more
// than the HMAC). A `KeyObject` key is exported to a JWK or secret Buffer first, so the addon
// only ever sees plain data. Types: ../index.d.ts describes the same API.

const { KeyObject } = require('node:crypto')

/** `options` with a KeyObject `key` replaced by what the addon reads (a JWK or a Buffer). */
function plainKey(options) {
  if (options === null || typeof options !== 'object' || !(options.key instanceof KeyObject)) return options
  const { key } = options
  const plain = key.type === 'secret' ? key.export() : key.export({ format: 'jwk' })
  return { ...options, key: plain }
}

function isPlainObject(value) {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}

function currentTime(options) {
  return options == null ? undefined : options.currentTime
}

/**
 * @param {typeof import('../index.js').JwtSigner} NativeSigner
 * @param {typeof import('../index.js').JwtVerifier} NativeVerifier
 */
function wrap(NativeSigner, NativeVerifier) {
  class JwtSigner extends NativeSigner {
    constructor(options) {
      super(plainKey(options))
    }

    /** @see NativeSigner#sign */
    sign(payload, options) {
      // Anything but a plain object goes to the native method for its TypeError.
      if (!isPlainObject(payload) || (options != null && typeof options !== 'object')) return super.sign(payload, options)
      return this._sign(JSON.stringify(payload), currentTime(options))
    }
  }

  class JwtVerifier extends NativeVerifier {
    constructor(options) {
      super(plainKey(options))
    }

    /** @see NativeVerifier#verify */
    verify(token, options) {
      if (options != null && typeof options !== 'object') return super.verify(token, options)
      return JSON.parse(this._verify(token, currentTime(options)))
    }
  }

  return { JwtSigner, JwtVerifier }
}

module.exports = { wrap }
