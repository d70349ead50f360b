'use strict'
// Login brute-force protection, the recipe the guides describe, as one object: failures are
// counted per username+IP (consecutive failures, long memory) and per IP (failures per day),
// read before the password is checked, charged only on failure, and cleared on success.

const { RateLimiter } = require('./index.js')

const HOUR = 3_600_000

class LoginGuard {
  #byUserAndIp
  #byIp

  /**
   * @param {import('./express').LoginGuardOptions} [options]
   */
  constructor(options = {}) {
    if (options === null || typeof options !== 'object') {
      const error = new TypeError('The "options" argument must be of type object')
      error.code = 'ERR_INVALID_ARG_TYPE'
      throw error
    }
    const failures = options.maxConsecutiveFailures ?? 10
    const blockMs = options.blockMs ?? HOUR
    const perIp = options.maxFailuresPerIpPerDay ?? 100
    const name = options.name
    // GCRA: `failures` attempts at once, then one more every `blockMs`; a clean record again
    // after failures × blockMs without failing.
    this.#byUserAndIp = new RateLimiter({
      limit: failures,
      windowMs: failures * blockMs,
      maxKeys: options.maxKeys,
      name: name && `${name}:user+ip`,
    })
    this.#byIp = new RateLimiter({ limit: perIp, windowMs: 24 * HOUR, maxKeys: options.maxKeys, name: name && `${name}:ip` })
  }

  static #keys({ username, ip } = {}) {
    if (typeof username !== 'string' || typeof ip !== 'string') {
      const error = new TypeError('LoginGuard needs { username: string, ip: string }')
      error.code = 'ERR_INVALID_ARG_TYPE'
      throw error
    }
    // Usernames compare case-insensitively, as most login forms treat them.
    return { userAndIp: `${username.toLowerCase()}\u0000${ip}`, ip }
  }

  /**
   * Call before checking the password. Spends nothing.
   * @returns {{ allowed: boolean, retryAfterMs: number }}
   */
  check(attempt) {
    const keys = LoginGuard.#keys(attempt)
    const user = this.#byUserAndIp.peek(keys.userAndIp)
    const ip = this.#byIp.peek(keys.ip)
    return { allowed: user.allowed && ip.allowed, retryAfterMs: Math.max(user.retryAfterMs, ip.retryAfterMs) }
  }

  /** Call when the password was wrong (or the user unknown). */
  fail(attempt) {
    const keys = LoginGuard.#keys(attempt)
    this.#byUserAndIp.hit(keys.userAndIp)
    this.#byIp.hit(keys.ip)
  }

  /** Call after a successful login: the consecutive-failure count for this user and IP restarts. */
  succeed(attempt) {
    this.#byUserAndIp.reset(LoginGuard.#keys(attempt).userAndIp)
  }
}

module.exports = { LoginGuard }
