'use strict'
// `rampart/mfa`: the second factor around the native Totp class. TotpGuard adds what RFC 6238
// and RFC 4226 ask of a server: each code accepted once (the last accepted step per account,
// kept in a store shared by every instance) and a bounded number of guesses per account.
// RecoveryCodes: one-time codes stored only as keyed hashes and consumed atomically.

const { createHmac, randomBytes } = require('node:crypto')

const { RateLimiter, Totp } = require('./index.js')
const events = require('./events.js')
const { coded, deriveKey } = require('./keys.js')

const MINUTE = 60_000

function typeError(message) {
  return coded(TypeError, 'ERR_INVALID_ARG_TYPE', message)
}

function optionsObject(options) {
  if (options === null || typeof options !== 'object') throw typeError('The "options" argument must be of type object')
  return options
}

function checkStore(store, methods, name) {
  if (store === null || typeof store !== 'object' || methods.some((m) => typeof store[m] !== 'function')) {
    throw typeError(`The "options.${name}" option must have the methods ${methods.join(', ')}`)
  }
  return store
}

function accountKey(account) {
  if ((typeof account !== 'string' && typeof account !== 'number') || String(account).length === 0 || String(account).length > 256) {
    throw typeError('The "account" must be a non-empty string or number (at most 256 characters): a user id')
  }
  return String(account)
}

/** Runs a store call; on failure publishes a store-outage event and rethrows (fail closed). */
async function storeCall(storeName, operation, fn) {
  try {
    return await fn()
  } catch (error) {
    events.storeOutage({ store: storeName, operation, failOpen: false, error })
    throw error
  }
}

/**
 * A stored step as a number: stores may return numbers or, like Redis, numeric strings.
 * Anything else is a broken store, refused rather than read as "no step" (fail closed).
 */
function stepOf(value) {
  if (value === null || value === undefined) return undefined
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return value
  if (typeof value === 'string' && /^[0-9]{1,15}$/.test(value)) return Number(value)
  throw coded(TypeError, 'ERR_INVALID_RETURN_VALUE', 'The TOTP step store returned something that is not a step number or null')
}

/**
 * The last accepted TOTP step per account, in this process's memory. Implements the
 * TotpStepStore interface; use a shared store (Redis) when several instances serve logins.
 */
class MemoryStepStore {
  #steps = new Map()
  #writes = 0

  /** @returns {number | null} */
  get(account) {
    const entry = this.#steps.get(account)
    if (!entry) return null
    if (entry.expiresAt <= Date.now()) {
      this.#steps.delete(account)
      return null
    }
    return entry.step
  }

  /** Stores `step` if it is after the stored one; atomic (one synchronous call). */
  advance(account, step, ttlMs) {
    const current = this.get(account)
    if (current !== null && current >= step) return false
    this.#steps.set(account, { step, expiresAt: Date.now() + ttlMs })
    if (++this.#writes % 1024 === 0) this.#sweep()
    return true
  }

  #sweep() {
    const now = Date.now()
    for (const [account, entry] of this.#steps) if (entry.expiresAt <= now) this.#steps.delete(account)
  }

  get size() {
    return this.#steps.size
  }
}

/**
 * Verifies TOTP codes with replay protection and a per-account attempt limit.
 */
class TotpGuard {
  #store
  #limiter
  #window

  /** @param {import('./mfa').TotpGuardOptions} [options] */
  constructor(options = {}) {
    optionsObject(options)
    this.#store = checkStore(options.store ?? new MemoryStepStore(), ['get', 'advance'], 'store')
    if (options.limiter !== undefined) {
      this.#limiter = checkStore(options.limiter, ['peek', 'hit', 'reset'], 'limiter')
    } else {
      const failures = options.maxConsecutiveFailures ?? 5
      const blockMs = options.blockMs ?? 5 * MINUTE
      // LoginGuard's recipe: `failures` guesses at once, then one more per `blockMs`.
      this.#limiter = new RateLimiter({ limit: failures, windowMs: failures * blockMs, maxKeys: options.maxKeys, name: options.name })
    }
    this.#window = options.window
  }

  /**
   * Checks `code` for `account` (a user id). Resolves to `{ ok: true, step, delta }` once per
   * code, or `{ ok: false, reason }` with reason 'invalid', 'replayed' or 'blocked' (then with
   * `retryAfterMs`). Rejects only when a store fails (fail closed).
   * @param {{ totp: Totp, code: unknown, account: string | number, ip?: string, time?: number }} attempt
   */
  async verify(attempt) {
    optionsObject(attempt)
    const { totp, code, ip, time } = attempt
    if (typeof totp?.verify !== 'function' || typeof totp.period !== 'number') throw typeError('The "totp" must be a Totp')
    const account = accountKey(attempt.account)
    const gate = await storeCall('ratelimit', 'peek', () => this.#limiter.peek(account))
    if (!gate.allowed) {
      events.mfaFailed({ account, ip, reason: 'blocked' })
      return { ok: false, reason: 'blocked', retryAfterMs: gate.retryAfterMs }
    }
    const window = this.#window ?? totp.window
    const lastStep = stepOf(await storeCall('totp-steps', 'get', () => this.#store.get(account)))
    const options = { window, time, lastStep }
    // A code from JSON may arrive as a number; it is refused (leading zeros would be lost).
    const match = typeof code === 'string' ? totp.verify(code, options) : null
    let reason = 'invalid'
    if (match !== null) {
      const ttlMs = (2 * window + 2) * totp.period * 1000
      if (await storeCall('totp-steps', 'advance', () => this.#store.advance(account, match.step, ttlMs))) {
        await storeCall('ratelimit', 'reset', () => this.#limiter.reset(account))
        return { ok: true, step: match.step, delta: match.delta }
      }
      reason = 'replayed' // another request accepted this step (or a later one) first
    } else if (options.lastStep !== undefined && typeof code === 'string' && totp.verify(code, { window, time }) !== null) {
      reason = 'replayed'
    }
    await storeCall('ratelimit', 'hit', () => this.#limiter.hit(account))
    events.mfaFailed({ account, ip, reason })
    return { ok: false, reason }
  }

  /** Forgets the failure count of `account` (for example after a recovery-code login). */
  async resetAttempts(account) {
    await this.#limiter.reset(accountKey(account))
  }
}

// Crockford's base32: no i, l, o, u, so codes are easy to read aloud and to type.
const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz'
const CODE_CHARS = 12 // 60 bits
const MAX_RECOVERY_CODES = 100
const HASH_PREFIX = 'rampart-recovery-v1:'

/** The 12 characters of a recovery code as typed (case, spaces, hyphens, i/l/o tolerated), or null. */
function normalizeRecoveryCode(code) {
  if (typeof code !== 'string' || code.length > 64) return null
  const text = code.toLowerCase().replace(/[\s-]/g, '').replace(/[il]/g, '1').replace(/o/g, '0')
  if (text.length !== CODE_CHARS) return null
  for (const c of text) if (!ALPHABET.includes(c)) return null
  return text
}

/**
 * In-memory hashes of recovery codes per account (the RecoveryCodeStore interface). `consume`
 * is one synchronous step, so it is atomic within the process.
 */
class MemoryRecoveryStore {
  #byAccount = new Map()

  replace(account, hashes) {
    if (!Array.isArray(hashes) || hashes.length > MAX_RECOVERY_CODES || hashes.some((h) => typeof h !== 'string' || h.length > 128)) {
      throw typeError(`The "hashes" argument must be an array of at most ${MAX_RECOVERY_CODES} hashes (strings)`)
    }
    this.#byAccount.set(accountKey(account), new Set(hashes))
  }

  consume(account, hash) {
    return this.#byAccount.get(account)?.delete(hash) ?? false
  }

  count(account) {
    return this.#byAccount.get(account)?.size ?? 0
  }
}

/**
 * One-time recovery codes: `xxxx-xxxx-xxxx` (60 random bits each), stored as
 * HMAC-SHA-256(key, code). A fast keyed hash is enough here: the codes are random, not chosen
 * by people, so there is nothing for a slow hash to protect against, and without the key a
 * stolen table cannot be brute-forced at all.
 */
class RecoveryCodes {
  #key
  #store
  #count

  /** @param {import('./mfa').RecoveryCodesOptions} options */
  constructor(options) {
    optionsObject(options)
    const key = options.key
    if (!(key instanceof Uint8Array) || key.length < 32) {
      throw coded(TypeError, 'ERR_INVALID_ARG_TYPE', 'The "options.key" option must be a Buffer of 32 bytes or more: deriveKey(master, \'recovery-codes\')')
    }
    this.#key = Buffer.from(key)
    this.#store = checkStore(options.store ?? new MemoryRecoveryStore(), ['replace', 'consume', 'count'], 'store')
    const count = options.count ?? 10
    if (!Number.isInteger(count) || count < 1 || count > MAX_RECOVERY_CODES) {
      throw coded(RangeError, 'ERR_OUT_OF_RANGE', `The value of "options.count" is out of range. It must be an integer from 1 to ${MAX_RECOVERY_CODES}`)
    }
    this.#count = count
  }

  /** The stored form of `code`, or null if it is not a recovery code. */
  hash(code) {
    const text = normalizeRecoveryCode(code)
    if (text === null) return null
    return createHmac('sha256', this.#key).update(HASH_PREFIX + text).digest('base64url')
  }

  /** New codes (shown to the user once) and their hashes (stored). Does not touch the store. */
  generate() {
    const bytes = randomBytes(this.#count * CODE_CHARS)
    const codes = []
    for (let i = 0; i < this.#count; i++) {
      let text = ''
      for (let j = 0; j < CODE_CHARS; j++) text += ALPHABET[bytes[i * CODE_CHARS + j] & 31]
      codes.push(`${text.slice(0, 4)}-${text.slice(4, 8)}-${text.slice(8)}`)
    }
    return { codes, hashes: codes.map((code) => this.hash(code)) }
  }

  /** Replaces every code of `account` with new ones; resolves to the codes to show once. */
  async reset(account) {
    const key = accountKey(account)
    const { codes, hashes } = this.generate()
    await storeCall('recovery-codes', 'replace', () => this.#store.replace(key, hashes))
    return codes
  }

  /**
   * Uses `code` for `account`: `{ ok: true, remaining }` the first time, `{ ok: false }` after
   * that, also when requests race (the store deletes atomically).
   */
  async consume(account, code, { ip } = {}) {
    const key = accountKey(account)
    const hash = this.hash(code)
    if (hash === null) return { ok: false }
    const used = await storeCall('recovery-codes', 'consume', () => this.#store.consume(key, hash))
    if (!used) return { ok: false }
    const remaining = Number(await storeCall('recovery-codes', 'count', () => this.#store.count(key)))
    events.recoveryCodeUsed({ account: key, ip, remaining })
    return { ok: true, remaining }
  }

  /** Codes left for `account`. */
  async remaining(account) {
    return Number(await this.#store.count(accountKey(account)))
  }
}

module.exports = { Totp, deriveKey, TotpGuard, MemoryStepStore, RecoveryCodes, MemoryRecoveryStore, normalizeRecoveryCode }
