'use strict'
// Login brute-force protection as one object. Each attempt is *reserved* before the password is
// checked (an atomic hit on every limit), and given back when the password was right: there is
// no window between "may I try?" and "count the failure" for concurrent attempts to slip through.
//
// Three limits at once:
//   pair     failures per (account, client): a short lock for one client guessing one account;
//   account  failures per account over all clients: credential stuffing from many addresses;
//   client   failures per client over all accounts: one client spraying many accounts.
// A client is its address grouped like `rateLimit` does (IPv6 /56 by default), so rotating through
// the addresses of one prefix does not help.
//
// Fails closed: a limiter that cannot record an attempt (a full table, a store error, a store
// that does not answer within `timeoutMs`) blocks the attempt unless `onStoreError: 'fail-open'`.

const { createHash } = require('node:crypto')

const events = require('./events.js')
const { RateLimiter } = require('./index.js')
const { ipKeyGenerator } = require('./ip.js')

const HOUR = 3_600_000
const DAY = 24 * HOUR
/** Accounts longer than this (UTF-8 bytes) are keyed by their SHA-256, so keys stay short. */
const MAX_ACCOUNT_BYTES = 256
/** What a blocked attempt is told to wait when a store failed (it has no retry time to give). */
const STORE_ERROR_RETRY_MS = 1000

function typeError(message, code = 'ERR_INVALID_ARG_TYPE') {
  const error = new TypeError(message)
  error.code = code
  return error
}

function rangeError(message) {
  const error = new RangeError(message)
  error.code = 'ERR_OUT_OF_RANGE'
  return error
}

function integer(options, name, fallback, min, max) {
  const value = options[name] ?? fallback
  if (typeof value !== 'number') throw typeError(`The "options.${name}" property must be of type number`)
  if (!Number.isInteger(value) || value < min || value > max) {
    throw rangeError(`The value of "options.${name}" is out of range. It must be an integer >= ${min} and <= ${max}`)
  }
  return value
}

/** Runs `read`; an uncoded error (a throwing getter, a Proxy trap) becomes a coded TypeError. */
function hostileSafe(read, name) {
  try {
    return read()
  } catch (error) {
    if (typeof error?.code === 'string' && error.code.startsWith('ERR_')) throw error
    throw typeError(`The "${name}" argument could not be read`, 'ERR_INVALID_ARG_VALUE')
  }
}

function readOptions(options) {
  if (options === null || typeof options !== 'object') {
    throw typeError('The "options" argument must be of type object')
  }
  const maxWindow = 2 ** 32 - 1
  const failures = integer(options, 'maxConsecutiveFailures', 10, 1, 1_000_000)
  const blockMs = integer(options, 'blockMs', HOUR, 1, Math.floor(maxWindow / failures))
  const read = {
    failures,
    blockMs,
    perAccount: integer(options, 'maxFailuresPerAccountPerDay', 100, 1, 1_000_000),
    perClient: integer(options, 'maxFailuresPerIpPerDay', 100, 1, 1_000_000),
    timeoutMs: integer(options, 'timeoutMs', 1000, 1, 60_000),
    maxKeys: options.maxKeys,
    name: options.name,
  }
  const subnet = options.ipv6Subnet ?? 56
  if (subnet !== false && !(Number.isInteger(subnet) && subnet >= 32 && subnet <= 64)) {
    throw rangeError('The value of "options.ipv6Subnet" is out of range. It must be an integer from 32 to 64, or false')
  }
  read.subnet = subnet
  const policy = options.onStoreError ?? 'fail-closed'
  if (policy !== 'fail-closed' && policy !== 'fail-open') {
    throw typeError("The \"options.onStoreError\" property must be 'fail-closed' or 'fail-open'", 'ERR_INVALID_ARG_VALUE')
  }
  read.failOpen = policy === 'fail-open'
  const delay = options.progressiveDelay ?? false
  if (delay === false) read.delay = null
  else if (delay === true || typeof delay === 'object') {
    const d = delay === true ? {} : delay
    read.delay = {
      after: integer(d, 'afterFailures', 3, 0, 1_000_000),
      baseMs: integer(d, 'baseMs', 250, 1, 60_000),
      maxMs: integer(d, 'maxMs', 8000, 1, 60_000),
    }
  } else throw typeError('The "options.progressiveDelay" property must be a boolean or an object')
  const create = options.createLimiter
  if (create !== undefined && typeof create !== 'function') {
    throw typeError('The "options.createLimiter" property must be of type function')
  }
  read.create = create
  return read
}

/** Resolves with `fn()`'s value, or rejects after `ms`; never leaves a timer behind. */
function withTimeout(fn, ms) {
  let timer
  return new Promise((resolve, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error('store timed out'), { code: 'ERR_STORE_TIMEOUT' })), ms)
    Promise.resolve()
      .then(fn)
      .then(resolve, reject)
  }).finally(() => clearTimeout(timer))
}

function isResult(value) {
  return value !== null && typeof value === 'object' && typeof value.allowed === 'boolean'
}

class LoginGuard {
  #limiters
  #options

  /**
   * @param {import('./express').LoginGuardOptions} [options]
   */
  constructor(options = {}) {
    const o = hostileSafe(() => readOptions(options), 'options')
    this.#options = o
    const create =
      o.create ??
      ((limiterOptions) =>
        new RateLimiter({
          limit: limiterOptions.limit,
          windowMs: limiterOptions.windowMs,
          maxKeys: o.maxKeys,
          name: o.name && `${o.name}:${limiterOptions.purpose}`,
        }))
    // pair: `failures` attempts at once, then one more every `blockMs` (GCRA); a clean record
    // again after failures × blockMs without failing.
    const specs = {
      pair: { purpose: 'pair', limit: o.failures, windowMs: o.failures * o.blockMs },
      account: { purpose: 'account', limit: o.perAccount, windowMs: DAY },
      client: { purpose: 'client', limit: o.perClient, windowMs: DAY },
    }
    this.#limiters = {}
    for (const [purpose, spec] of Object.entries(specs)) {
      const limiter = create(spec)
      for (const method of ['hit', 'refund', 'reset']) {
        if (typeof limiter?.[method] !== 'function') {
          throw typeError(`The limiter made by "options.createLimiter" must have a ${method}() method`)
        }
      }
      this.#limiters[purpose] = limiter
    }
  }

  static #account(username) {
    // Compared case- and compatibility-insensitively, as login forms treat them.
    const account = username.normalize('NFKC').toLowerCase()
    return Buffer.byteLength(account) > MAX_ACCOUNT_BYTES ? `sha256:${createHash('sha256').update(account).digest('hex')}` : account
  }

  #keys(attempt) {
    return hostileSafe(() => this.#readKeys(attempt), 'attempt')
  }

  #readKeys(attempt) {
    if (attempt === null || typeof attempt !== 'object') throw typeError('LoginGuard needs { username: string, ip: string }')
    const { username, ip } = attempt
    if (typeof username !== 'string' || typeof ip !== 'string') {
      throw typeError('LoginGuard needs { username: string, ip: string }')
    }
    if (ip.length > 100) throw rangeError('The value of "ip" is out of range. It must be at most 100 characters long')
    const account = LoginGuard.#account(username)
    const client = ipKeyGenerator(ip, this.#options.subnet)
    return { pair: `${account}\u0000${client}`, account, client }
  }

  /** One store call under the timeout; a store failure resolves to `null`, never rejects. */
  async #call(purpose, method, key) {
    try {
      const value = await withTimeout(() => this.#limiters[purpose][method](key), this.#options.timeoutMs)
      if (method === 'hit' && !isResult(value)) return null
      return value ?? true
    } catch {
      return null
    }
  }

  /**
   * Reserves one attempt for `{ username, ip }` before the password is checked. Resolves with
   * `{ allowed, retryAfterMs, delayMs, success(), failure() }`; when allowed, call `success()` if
   * the password was right (the reservation is given back and the account+client record is
   * cleared) or `failure()` if not (the reservation stays as the failure).
   * @param {{ username: string, ip: string }} attempt
   */
  async begin(attempt) {
    const keys = this.#keys(attempt)
    const purposes = ['pair', 'account', 'client']
    const results = await Promise.all(purposes.map((purpose) => this.#call(purpose, 'hit', keys[purpose])))
    const storeFailed = results.some((r) => r === null)
    const denied = results.some((r) => r !== null && !r.allowed)
    const charged = purposes.filter((_, i) => results[i]?.allowed)
    if (denied || (storeFailed && !this.#options.failOpen)) {
      // A blocked attempt counts nowhere: give back what it reserved, so that (for instance) a
      // client blocked by its own limit cannot keep draining the account's budget.
      await Promise.all(charged.map((purpose) => this.#call(purpose, 'refund', keys[purpose])))
      const retryAfterMs = Math.max(
        storeFailed ? STORE_ERROR_RETRY_MS : 0,
        ...results.map((r) => (r !== null && !r.allowed ? r.retryAfterMs : 0)),
      )
      // Security event (no secret: the normalised account name and the client key).
      events.loginBlocked({ account: keys.account, ip: keys.client, retryAfterMs })
      return settled({ allowed: false, retryAfterMs, delayMs: 0, reason: denied ? 'limited' : 'store-error' })
    }
    let delayMs = 0
    const { delay } = this.#options
    const account = results[1]
    if (delay !== null && account !== null) {
      const used = account.limit - account.remaining
      if (used > delay.after) delayMs = Math.min(delay.maxMs, delay.baseMs * 2 ** Math.min(30, used - delay.after - 1))
      if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs))
    }
    let done = false
    return {
      allowed: true,
      retryAfterMs: 0,
      delayMs,
      reason: storeFailed ? 'store-error' : 'ok',
      success: async () => {
        if (done) return
        done = true
        await Promise.all([
          this.#call('pair', 'reset', keys.pair),
          ...charged.filter((p) => p !== 'pair').map((purpose) => this.#call(purpose, 'refund', keys[purpose])),
        ])
      },
      failure: async () => {
        done = true
      },
    }
  }
}

/** The result of a blocked attempt: nothing to settle. */
function settled(result) {
  return { ...result, success: async () => {}, failure: async () => {} }
}

module.exports = { LoginGuard }
