'use strict'
// JwtSigner and JwtVerifier on their fast paths: JSON.stringify / JSON.parse run here, in V8,
// and the addon signs or verifies the JSON text (building objects through N-API costs more
// than the HMAC). A `KeyObject` key is exported to a JWK or secret Buffer first, so the addon
// only ever sees plain data. RS*/PS* signatures are made with Node's OpenSSL from a KeyObject
// built once: its RSA private-key operation measured about twice as fast as ring's here; the
// addon still parses and checks the key and builds the signed bytes. Types: ../index.d.ts.

const crypto = require('node:crypto')

const { KeyObject } = crypto

/**
 * `options` with a KeyObject `key` replaced by what the addon reads (a JWK or a Buffer).
 * An asymmetric key is copied through DER into a fresh KeyObject before its JWK export: on
 * Node 20, exporting a JWK from a key made by `generateKeyPair(Sync)` can deadlock the process
 * when a garbage collection during the export finalizes the key-generation job, which locks the
 * key's mutex the export already holds (reproduced here in under 100 exports; DER export and
 * Node 22/24 are not affected). The copy shares no mutex with that job.
 */
function plainKey(options) {
  if (options === null || typeof options !== 'object' || !(options.key instanceof KeyObject)) return options
  const { key } = options
  if (key.type === 'secret') return { ...options, key: key.export() }
  const fresh =
    key.type === 'private'
      ? crypto.createPrivateKey({ key: key.export({ format: 'der', type: 'pkcs8' }), format: 'der', type: 'pkcs8' })
      : crypto.createPublicKey({ key: key.export({ format: 'der', type: 'spki' }), format: 'der', type: 'spki' })
  return { ...options, key: fresh.export({ format: 'jwk' }) }
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

// ---------------------------------------------------------------------------------------------
// Remote JWKS. The network stays here (Node's fetch); each fetched set is parsed and checked by
// the addon once (a native verifier is built from it), and verifiers rebuild their native key
// set only when the set changed. Failures keep the last good set for `maxStaleMs` (fail closed
// after that) and are reported once through `onError`, never per request.

const ASYMMETRIC = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519']
const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]'])
const internal = new WeakMap()

function codedError(ErrorClass, code, message, cause) {
  const error = new ErrorClass(message, cause === undefined ? undefined : { cause })
  error.code = code
  return error
}

function msOption(options, name, fallback, min, max) {
  const value = options[name]
  if (value === undefined) return fallback
  if (typeof value !== 'number') throw codedError(TypeError, 'ERR_INVALID_ARG_TYPE', `The "options.${name}" option must be a number`)
  if (!Number.isFinite(value) || value < min || value > max) {
    throw codedError(RangeError, 'ERR_OUT_OF_RANGE', `The "options.${name}" option must be from ${min} to ${max}`)
  }
  return value
}

/** Reads at most `max` bytes of the body; more is an error (the stream is cancelled). */
async function readCapped(response, max) {
  const declared = Number(response.headers.get('content-length'))
  if (declared > max) {
    await response.body?.cancel().catch(() => {})
    throw new Error(`the body is over ${max} bytes`)
  }
  if (!response.body) return ''
  const reader = response.body.getReader()
  const chunks = []
  let total = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    total += value.byteLength
    if (total > max) {
      await reader.cancel().catch(() => {})
      throw new Error(`the body is over ${max} bytes`)
    }
    chunks.push(value)
  }
  return Buffer.concat(chunks).toString('utf8')
}

/**
 * The opt-in verified-token cache (`cache: { maxEntries }`). Keyed by the whole token string:
 * the Map hashes every byte and compares the full string, so a token differing in any byte
 * misses (no user key builder, no subset of claims; see CVE-2026-35039). Only tokens with a
 * numeric `exp` are kept; a hit is served only while now < exp (and now < iat + maxAge, and
 * now >= nbf and iat), checked at every hit with that call's time and no clock tolerance, so the
 * cache is never more lenient than a full verification. Bounded: the oldest entry goes first.
 * The caller empties it when the key set changes. A hit returns a fresh object (JSON.parse of
 * the verified payload text), so callers cannot alter what later hits return.
 */
class TokenCache {
  #map = new Map()
  #max
  #maxAge

  constructor(cache, maxAge) {
    if (cache === null || typeof cache !== 'object') throw codedError(TypeError, 'ERR_INVALID_ARG_TYPE', 'The "options.cache" option must be an object like { maxEntries: 10000 }')
    const { maxEntries = 10_000 } = cache
    if (!Number.isInteger(maxEntries) || maxEntries < 1 || maxEntries > 1_000_000) {
      throw codedError(RangeError, 'ERR_OUT_OF_RANGE', 'The "options.cache.maxEntries" option must be an integer from 1 to 1000000')
    }
    this.#max = maxEntries
    this.#maxAge = typeof maxAge === 'number' ? maxAge : Infinity
  }

  /** The verified payload text for `token` if it may still be accepted at `now` (seconds). */
  get(token, now) {
    const entry = this.#map.get(token)
    if (entry === undefined) return undefined
    if (now >= entry.until) {
      this.#map.delete(token)
      return undefined
    }
    return now >= entry.from ? entry.json : undefined
  }

  set(token, json, payload) {
    const { exp, nbf, iat } = payload
    if (typeof exp !== 'number') return
    const until = Math.min(exp, typeof iat === 'number' ? iat + this.#maxAge : Infinity)
    const from = Math.max(typeof nbf === 'number' ? nbf : -Infinity, typeof iat === 'number' ? iat : -Infinity)
    if (this.#map.size >= this.#max) this.#map.delete(this.#map.keys().next().value)
    this.#map.set(token, { json, until, from })
  }

  clear() {
    this.#map.clear()
  }

  get size() {
    return this.#map.size
  }
}

/** Verify through `cache`: a hit skips the signature check, never the time checks. */
function cachedVerify(cache, native, token, options) {
  const at = currentTime(options)
  const now = at ?? Date.now() / 1000
  if (typeof token === 'string') {
    const hit = cache.get(token, now)
    if (hit !== undefined) return JSON.parse(hit)
  }
  const json = native._verify(token, at)
  const payload = JSON.parse(json)
  cache.set(token, json, payload)
  return payload
}

/**
 * A JSON Web Key Set fetched from a URL and kept fresh; pass it as `key` to `JwtVerifier`.
 * Options (milliseconds): cacheMaxAgeMs (600000), cooldownMs (30000), maxStaleMs (86400000),
 * timeoutMs (5000), maxBodyBytes (262144), headers, allowHttpLocalhost (false), onError, fetch.
 */
class RemoteJwks {
  #url
  #options
  #set = null // { keys } of the last good fetch
  #version = 0
  #fetchedAt = 0 // when #set was fetched (Date.now())
  #attemptAt = -Infinity // when the last fetch started
  #inflight = null
  #lastError = null
  #reported = false
  #fetches = 0

  constructor(url, options = {}) {
    if (options === null || typeof options !== 'object') throw codedError(TypeError, 'ERR_INVALID_ARG_TYPE', 'The "options" argument must be an object')
    let parsed
    try {
      parsed = new URL(url)
    } catch {
      throw codedError(TypeError, 'ERR_INVALID_ARG_VALUE', 'The "url" argument must be an absolute URL')
    }
    if (parsed.protocol !== 'https:') {
      const local = parsed.protocol === 'http:' && LOOPBACK.has(parsed.hostname)
      if (!(local && options.allowHttpLocalhost === true)) {
        throw codedError(TypeError, 'ERR_INVALID_ARG_VALUE', 'The JWKS URL must use https: (http: only for localhost, with allowHttpLocalhost: true)')
      }
    }
    if (options.headers !== undefined && (options.headers === null || typeof options.headers !== 'object')) {
      throw codedError(TypeError, 'ERR_INVALID_ARG_TYPE', 'The "options.headers" option must be an object')
    }
    for (const name of ['onError', 'fetch']) {
      if (options[name] !== undefined && typeof options[name] !== 'function') {
        throw codedError(TypeError, 'ERR_INVALID_ARG_TYPE', `The "options.${name}" option must be a function`)
      }
    }
    this.#url = parsed.href
    this.#options = {
      cacheMaxAgeMs: msOption(options, 'cacheMaxAgeMs', 600_000, 1, 2 ** 31),
      cooldownMs: msOption(options, 'cooldownMs', 30_000, 0, 2 ** 31),
      maxStaleMs: msOption(options, 'maxStaleMs', 86_400_000, 0, 2 ** 36),
      timeoutMs: msOption(options, 'timeoutMs', 5000, 1, 600_000),
      maxBodyBytes: msOption(options, 'maxBodyBytes', 256 * 1024, 1024, 16 * 1024 * 1024),
      headers: { accept: 'application/jwk-set+json, application/json', ...options.headers },
      onError: options.onError,
      fetch: options.fetch ?? globalThis.fetch,
    }
    internal.set(this, {
      current: (now) => this.#current(now),
      refresh: (now, force) => this.#refresh(now, force),
    })
  }

  /** How many fetches were started (for monitoring and tests). */
  get fetchCount() {
    return this.#fetches
  }

  /** Fetches the set now (also awaited on first use); resolves when a good set is cached. */
  async ready() {
    const now = Date.now()
    if (this.#current(now)) return
    await this.#refresh(now, true)
    if (!this.#current(Date.now())) throw this.#unavailable()
  }

  #unavailable() {
    return codedError(Error, 'ERR_JWKS_UNAVAILABLE', 'No usable JWKS: the key set could not be fetched, or the last good one is older than maxStaleMs', this.#lastError ?? undefined)
  }

  /** The usable set and its version, or null; starts a background refresh when it is due. */
  #current(now) {
    const { cacheMaxAgeMs, maxStaleMs } = this.#options
    if (this.#set === null) return null
    const age = now - this.#fetchedAt
    if (age >= cacheMaxAgeMs * 0.8) this.#refresh(now, false).catch(() => {})
    if (age > cacheMaxAgeMs + maxStaleMs) return null
    return { set: this.#set, version: this.#version, fresh: age <= cacheMaxAgeMs }
  }

  /** One fetch at a time, at most one per cooldownMs; resolves when done (never rejects). */
  #refresh(now, first) {
    if (this.#inflight) return this.#inflight
    if (now - this.#attemptAt < this.#options.cooldownMs && !(first && this.#attemptAt === -Infinity)) {
      return Promise.resolve()
    }
    this.#attemptAt = now
    this.#fetches++
    this.#inflight = this.#fetchSet().then(
      (set) => {
        this.#set = set
        this.#version++
        this.#fetchedAt = Date.now()
        this.#lastError = null
        this.#reported = false
      },
      (error) => {
        this.#lastError = error
        if (!this.#reported) {
          this.#reported = true
          try {
            this.#options.onError?.(error)
          } catch {
            // a throwing onError must not turn into an unhandled rejection
          }
        }
      },
    ).finally(() => {
      this.#inflight = null
    })
    return this.#inflight
  }

  async #fetchSet() {
    const { timeoutMs, maxBodyBytes, headers, fetch } = this.#options
    let text
    try {
      const response = await fetch(this.#url, { headers, redirect: 'error', signal: AbortSignal.timeout(timeoutMs) })
      if (response.status !== 200) {
        await response.body?.cancel().catch(() => {})
        throw new Error(`the JWKS endpoint answered HTTP ${response.status}`)
      }
      text = await readCapped(response, maxBodyBytes)
    } catch (cause) {
      const timedOut = cause?.name === 'TimeoutError'
      throw codedError(Error, 'ERR_JWKS_FETCH_FAILED', timedOut ? `JWKS fetch timed out after ${timeoutMs} ms` : `JWKS fetch failed: ${cause?.message ?? cause}`, cause)
    }
    let set
    try {
      set = JSON.parse(text)
    } catch (cause) {
      throw codedError(Error, 'ERR_JWKS_INVALID', 'The JWKS endpoint returned invalid JSON', cause)
    }
    if (set === null || typeof set !== 'object' || !Array.isArray(set.keys)) {
      throw codedError(Error, 'ERR_JWKS_INVALID', 'The JWKS endpoint returned JSON without a "keys" array')
    }
    // Parsed and checked by the addon once per fetch: a set with no usable signing key fails.
    const keys = set.keys.filter((jwk) => jwk !== null && typeof jwk === 'object' && jwk.kty !== 'oct')
    try {
      new RemoteJwks.Native({ algorithms: ASYMMETRIC, key: { keys } })
    } catch (cause) {
      throw codedError(Error, 'ERR_JWKS_INVALID', `The JWKS holds no usable signing key (${cause.message})`, cause)
    }
    return { keys }
  }
}

/**
 * @param {typeof import('../index.js').JwtSigner} NativeSigner
 * @param {typeof import('../index.js').JwtVerifier} NativeVerifier
 * @param {boolean} bound whether the addon's bound functions can be used (native builds; see
 *   src/bound.rs: they skip the cost of a class-method call)
 */
function wrap(NativeSigner, NativeVerifier, bound) {
  /** Puts the bound `_verify` on a native verifier, in place of the class method. */
  const fast = (native) => {
    if (bound) Object.defineProperty(native, '_verify', { value: native._bound() })
    return native
  }
  class JwtSigner extends NativeSigner {
    #rsa
    #plain

    constructor(options) {
      const plain = plainKey(options)
      super(plain)
      this.#plain = plain
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

    /**
     * The public JWK Set for this signer's key, `{ keys: [{ kty, ..., kid, alg, use: 'sig' }] }`,
     * to publish at /.well-known/jwks.json. Needs an asymmetric key and a key id (options.keyId
     * or the JWK's `kid`), since verifiers choose the key by `kid`.
     */
    jwks() {
      if (this.algorithm.startsWith('HS')) {
        throw codedError(TypeError, 'ERR_INVALID_STATE', 'An HMAC secret is never published: jwks() needs an RS*, PS*, ES* or EdDSA signer')
      }
      const { key, keyId } = this.#plain
      const kid = keyId ?? (isPlainObject(key) ? key.kid : undefined)
      if (typeof kid !== 'string' || kid === '') {
        throw codedError(TypeError, 'ERR_INVALID_STATE', 'jwks() needs a key id: give the signer options.keyId (verifiers pick keys by kid)')
      }
      const privateKey = isPlainObject(key) ? crypto.createPrivateKey({ key, format: 'jwk' }) : crypto.createPrivateKey(key)
      const { kty, n, e, crv, x, y } = crypto.createPublicKey(privateKey).export({ format: 'jwk' })
      const pub = kty === 'RSA' ? { kty, n, e } : kty === 'EC' ? { kty, crv, x, y } : { kty, crv, x }
      return { keys: [{ ...pub, kid, alg: this.algorithm, use: 'sig' }] }
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

  RemoteJwks.Native = NativeVerifier

  class JwtVerifier extends NativeVerifier {
    constructor(options) {
      if (options !== null && typeof options === 'object' && options.key instanceof RemoteJwks) {
        // A derived constructor may return another object: a verifier over the remote set.
        return new RemoteJwtVerifier(options)
      }
      super(plainKey(options))
      fast(this)
      if (options.cache !== undefined) this.#cache = new TokenCache(options.cache, options.maxAge)
    }

    #cache

    /** @see NativeVerifier#verify */
    verify(token, options) {
      if (options != null && typeof options !== 'object') return super.verify(token, options)
      if (this.#cache !== undefined) return cachedVerify(this.#cache, this, token, options)
      return JSON.parse(this._verify(token, currentTime(options)))
    }

    /** Same as `verify`, as a Promise (for a remote JWKS it waits for a needed fetch). */
    async verifyAsync(token, options) {
      return this.verify(token, options)
    }
  }

  /** A JwtVerifier whose keys come from a RemoteJwks; a native verifier is built per set. */
  class RemoteJwtVerifier {
    #jwks
    #options
    #native = null
    #version = -1
    #algorithms
    #cache

    constructor(options) {
      const { algorithms } = options
      if (!Array.isArray(algorithms) || algorithms.length === 0) {
        throw codedError(TypeError, 'ERR_INVALID_ARG_TYPE', 'The "options.algorithms" option must be a non-empty array')
      }
      for (const alg of algorithms) {
        if (!ASYMMETRIC.includes(alg)) {
          throw codedError(RangeError, 'ERR_INVALID_ARG_VALUE', `With a RemoteJwks, options.algorithms may hold only ${ASYMMETRIC.join(', ')} (a published key is never an HMAC secret)`)
        }
      }
      this.#jwks = internal.get(options.key)
      this.#options = { ...options, cache: undefined }
      if (options.cache !== undefined) this.#cache = new TokenCache(options.cache, options.maxAge)
      this.#algorithms = [...algorithms]
    }

    get algorithms() {
      return [...this.#algorithms]
    }

    /** The native verifier for the current set, rebuilt only when the set changed; or null. */
    #native_(now) {
      const current = this.#jwks.current(now)
      if (current === null) return null
      if (current.version !== this.#version) {
        let native
        try {
          native = fast(new NativeVerifier({ ...this.#options, key: current.set }))
        } catch (cause) {
          if (cause?.code !== 'ERR_INVALID_ARG_VALUE') throw cause
          throw codedError(Error, 'ERR_JWT_KEY_NOT_FOUND', 'The JWKS holds no key for options.algorithms', cause)
        }
        this.#native = native
        this.#version = current.version
        this.#cache?.clear() // a new key set: nothing verified under the old one is served
      }
      return this.#native
    }

    #unavailable() {
      return codedError(Error, 'ERR_JWKS_UNAVAILABLE', 'No usable JWKS: the key set could not be fetched, or the last good one is older than maxStaleMs')
    }

    /**
     * Synchronous while the set is cached. Before the first fetch (or past maxStaleMs) it throws
     * ERR_JWKS_UNAVAILABLE and starts a fetch; an unknown `kid` starts a refetch (at most one per
     * cooldownMs) and throws ERR_JWT_KEY_NOT_FOUND. `verifyAsync` waits for those fetches.
     */
    verify(token, options) {
      if (options != null && typeof options !== 'object') throw codedError(TypeError, 'ERR_INVALID_ARG_TYPE', 'The "options" argument must be an object')
      const now = Date.now()
      const native = this.#native_(now)
      if (native === null) {
        this.#jwks.refresh(now, true).catch(() => {})
        throw this.#unavailable()
      }
      try {
        return this.#run(native, token, options)
      } catch (error) {
        if (error?.code === 'ERR_JWT_KEY_NOT_FOUND') this.#jwks.refresh(now, false).catch(() => {})
        throw error
      }
    }

    async verifyAsync(token, options) {
      let now = Date.now()
      const current = this.#jwks.current(now)
      // No set yet, or past cacheMaxAgeMs: wait for the (single, cooldown-limited) refetch.
      if (current === null || !current.fresh) await this.#jwks.refresh(now, current === null)
      let native = this.#native_(Date.now())
      if (native === null) throw this.#unavailable()
      try {
        return this.#run(native, token, options)
      } catch (error) {
        if (error?.code !== 'ERR_JWT_KEY_NOT_FOUND') throw error
        now = Date.now()
        await this.#jwks.refresh(now, false)
        native = this.#native_(Date.now())
        if (native === null) throw this.#unavailable()
        return this.#run(native, token, options)
      }
    }

    #run(native, token, options) {
      if (this.#cache !== undefined) return cachedVerify(this.#cache, native, token, options)
      return JSON.parse(native._verify(token, currentTime(options)))
    }
  }
  Object.setPrototypeOf(RemoteJwtVerifier.prototype, JwtVerifier.prototype)
  // requireJwt awaits verifyAsync for verifiers carrying this marker.
  RemoteJwtVerifier.prototype[Symbol.for('rampart.jwt.async')] = true

  return { JwtSigner, JwtVerifier, RemoteJwks }
}

module.exports = { wrap, RemoteJwks }
