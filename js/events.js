'use strict'
// `rampart/events`: security events on node:diagnostics_channel, the channels APM agents and
// log shippers subscribe to. This module owns every channel name and payload shape.
//
// Payloads carry identifiers only: account ids, IP addresses, error codes, counts, route paths
// (without the query string). Never a password, token, code, secret, cookie or header value.
// Publishing is free when nobody listens: each helper checks `hasSubscribers` before it builds
// anything, and hot paths check it themselves before gathering the fields.

const diagnosticsChannel = require('node:diagnostics_channel')

/** Channel names: part of the public API (docs/events.md). */
const NAMES = Object.freeze({
  loginBlocked: 'rampart:login.blocked',
  rateLimitDenied: 'rampart:ratelimit.denied',
  jwtRejected: 'rampart:jwt.rejected',
  mfaFailed: 'rampart:mfa.failed',
  recoveryCodeUsed: 'rampart:recovery-code.used',
  csrfRejected: 'rampart:csrf.rejected',
  storeOutage: 'rampart:store.outage',
})

/** The Channel objects, by the keys of NAMES. `channels.x.hasSubscribers` is a cheap check. */
const channels = Object.freeze(Object.fromEntries(Object.entries(NAMES).map(([key, name]) => [key, diagnosticsChannel.channel(name)])))

const str = (value) => (typeof value === 'string' ? value : value === undefined || value === null ? undefined : String(value))
const num = (value) => (typeof value === 'number' && Number.isFinite(value) ? value : undefined)

/** Drops undefined fields so payloads have a stable, JSON-friendly shape. */
function publish(channel, event, fields) {
  const payload = { event, time: Date.now() }
  for (const key of Object.keys(fields)) if (fields[key] !== undefined) payload[key] = fields[key]
  channel.publish(Object.freeze(payload))
}

/** The path of a request without its query string (which may hold tokens). */
function pathOf(req) {
  const url = req?.originalUrl ?? req?.url
  if (typeof url !== 'string') return undefined
  const q = url.indexOf('?')
  return (q === -1 ? url : url.slice(0, q)).slice(0, 256)
}

/** Too many failed logins: the attempt was refused before the password was checked. */
function loginBlocked(fields) {
  if (!channels.loginBlocked.hasSubscribers) return
  const { account, ip, retryAfterMs } = fields ?? {}
  publish(channels.loginBlocked, 'login.blocked', { account: str(account), ip: str(ip), retryAfterMs: num(retryAfterMs) })
}

/** A rate limiter denied a request. `key` is the limiter key (an IP or id the app chose). */
function rateLimitDenied(fields) {
  if (!channels.rateLimitDenied.hasSubscribers) return
  const { key, ip, method, path, limit, retryAfterMs } = fields ?? {}
  publish(channels.rateLimitDenied, 'ratelimit.denied', {
    key: str(key),
    ip: str(ip),
    method: str(method),
    path: str(path),
    limit: num(limit),
    retryAfterMs: num(retryAfterMs),
  })
}

/** A bearer JWT was refused. `code` is the verifier's ERR_JWT_* code (or ERR_JWT_MISSING). */
function jwtRejected(fields) {
  if (!channels.jwtRejected.hasSubscribers) return
  const { code, ip, method, path } = fields ?? {}
  publish(channels.jwtRejected, 'jwt.rejected', { code: str(code), ip: str(ip), method: str(method), path: str(path) })
}

/** A second-factor check failed. reason: 'invalid' | 'replayed' | 'blocked'. */
function mfaFailed(fields) {
  if (!channels.mfaFailed.hasSubscribers) return
  const { account, ip, reason, method } = fields ?? {}
  publish(channels.mfaFailed, 'mfa.failed', { account: str(account), ip: str(ip), method: str(method ?? 'totp'), reason: str(reason) })
}

/** A recovery code was consumed; `remaining` codes are left for the account. */
function recoveryCodeUsed(fields) {
  if (!channels.recoveryCodeUsed.hasSubscribers) return
  const { account, ip, remaining } = fields ?? {}
  publish(channels.recoveryCodeUsed, 'recovery-code.used', { account: str(account), ip: str(ip), remaining: num(remaining) })
}

/** A state-changing request was refused by the CSRF middleware; `code` is the ERR_CSRF_* code. */
function csrfRejected(fields) {
  if (!channels.csrfRejected.hasSubscribers) return
  const { code, ip, method, path, site } = fields ?? {}
  publish(channels.csrfRejected, 'csrf.rejected', { code: str(code), ip: str(ip), method: str(method), path: str(path), site: str(site) })
}

/**
 * A shared store (Redis...) failed. `store` names it ('ratelimit', 'totp-steps', ...),
 * `operation` the call, `failOpen` whether the request was let through, `error` the error's
 * code or name only (never its message: client messages can echo keys or commands).
 */
function storeOutage(fields) {
  if (!channels.storeOutage.hasSubscribers) return
  const { store, operation, failOpen, error } = fields ?? {}
  const code = error === undefined || error === null ? undefined : typeof error === 'string' ? error : (error.code ?? error.name)
  publish(channels.storeOutage, 'store.outage', { store: str(store), operation: str(operation), failOpen: typeof failOpen === 'boolean' ? failOpen : undefined, error: str(code) })
}

module.exports = { NAMES, channels, pathOf, loginBlocked, rateLimitDenied, jwtRejected, mfaFailed, recoveryCodeUsed, csrfRejected, storeOutage }
