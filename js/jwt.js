'use strict'
// JwtSigner and JwtVerifier on their fast paths: JSON.stringify / JSON.parse run here, in V8,
// and the addon signs or verifies the JSON text (building objects through N-API costs more
// than the HMAC). A `KeyObject` key is exported to a JWK or secret Buffer first, so the addon
// only ever sees plain data. RS*/PS* signatures are made with Node's OpenSSL from a KeyObject
// built once: its RSA private-key operation measured about twice as fast as ring's here; the
// addon still parses and checks the key and builds the signed bytes. Types: ../index.d.ts.

const crypto = require('node:crypto')

const { KeyObject } = crypto

/** `options` with a KeyObject `key` replaced by what the addon reads (a JWK or a Buffer). */
function plainKey(options) {
  if (options === null || typeof options !== 'object' || !(options.key instanceof KeyObject)) return options
  const { key } = options
  const plain = key.type === 'secret' ? key.export() : key.export({ format: 'jwk' })
  return { ...options, key: plain }
}

/** A function signing `header.payload` with Node's OpenSSL for an RS* or PS* algorithm. */
function rsaSigner(algorithm, key) {
  const keyObject = typeof key === 'string' || ArrayBuffer.isView(key) ? crypto.createPrivateKey(key) : crypto.createPrivateKey({ key, format: 'jwk' })
  const hash = `sha${algorithm.slice(2)}`
  const signKey = algorithm.startsWith('PS')
    ? { key: keyObject, padding: crypto.constants.RSA_PKCS1_PSS_PADDING, saltLength: crypto.constants.RSA_PSS_SALTLEN_DIGEST }
    : keyObject
  return (input) => crypto.sign(hash, Buffer.from(input), signKey).toString('base64url')
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
    #rsa

    constructor(options) {
      const plain = plainKey(options)
      super(plain)
      // The addon accepted the key above, so it is an RSA private key of at least 2048 bits. If
      // OpenSSL reads it differently (text around the PEM block), the addon signs instead.
      if (/^[RP]S/.test(this.algorithm)) {
        try {
          this.#rsa = rsaSigner(this.algorithm, plain.key)
        } catch {
          this.#rsa = undefined
        }
      }
    }

    /** @see NativeSigner#sign */
    sign(payload, options) {
      // Anything but a plain object goes to the native method for its TypeError.
      if (!isPlainObject(payload) || (options != null && typeof options !== 'object')) return super.sign(payload, options)
      const json = JSON.stringify(payload)
      if (this.#rsa === undefined) return this._sign(json, currentTime(options))
      const input = this._signingInput(json, currentTime(options))
      return `${input}.${this.#rsa(input)}`
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
