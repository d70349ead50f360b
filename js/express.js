'use strict'
// `rampart/express`: rate-limiting middleware on the native RateLimiter, a store for
// express-rate-limit, a login brute-force guard, and the authentication helpers of ./auth.js.

const { RateLimiter } = require('./index.js')
const { ipKeyGenerator } = require('./ip.js')
const { LoginGuard } = require('./login-guard.js')
const { requireJwt, authorize, errorHandler } = require('./auth.js')
const events = require('./events.js')
const { csrf, CSRF_CODES } = require('./csrf.js')
const { deriveKey } = require('./keys.js')

const DRAFTS = new Set(['draft-6', 'draft-7', 'draft-8'])
const DEFAULT_MESSAGE = 'Too many requests, please try again later.'

/** `100-in-15min`, `5-in-1.5s`: the draft-8 policy name erl users know. */
function defaultIdentifier(limit, windowMs) {
  const units = [
    ['day', 86_400_000],
    ['h', 3_600_000],
    ['min', 60_000],
    ['s', 1000],
  ]
  for (const [unit, ms] of units) {
    if (windowMs >= ms && (windowMs % ms === 0 || unit === 's')) return `${limit}-in-${+(windowMs / ms).toFixed(3)}${unit}`
  }
  return `${limit}-in-${windowMs}ms`
}

function typeError(message) {
  const error = new TypeError(message)
  error.code = 'ERR_INVALID_ARG_TYPE'
  return error
}

function checkFunction(options, name) {
  if (options[name] !== undefined && typeof options[name] !== 'function') {
    throw typeError(`The "options.${name}" option must be a function`)
  }
}

/** Warns once per middleware instance about a misconfiguration seen on a real request. */
function warnOnce(seen, code, message) {
  if (seen.has(code)) return
  seen.add(code)
  process.emitWarning(message, { code })
}

function checkProxySetup(req, ip, seen) {
  const trust = req.app?.get?.('trust proxy')
  if (trust === true) {
    warnOnce(
      seen,
      'RAMPART_PERMISSIVE_TRUST_PROXY',
      "rampart rateLimit: Express 'trust proxy' is true, so any client can choose its own IP (and rate-limit key) " +
        "with an X-Forwarded-For header. Set it to the number of proxies in front of the app, e.g. app.set('trust proxy', 1).",
    )
  } else if (!trust && req.headers['x-forwarded-for'] !== undefined) {
    warnOnce(
      seen,
      'RAMPART_UNTRUSTED_FORWARDED_FOR',
      "rampart rateLimit: a request has an X-Forwarded-For header but Express 'trust proxy' is off, so every client " +
        "behind the proxy shares one rate-limit key (the proxy's). If the app runs behind a reverse proxy or load " +
        "balancer, set app.set('trust proxy', 1) (the number of proxies).",
    )
  }
  if (ip === undefined) {
    warnOnce(
      seen,
      'RAMPART_UNDEFINED_IP',
      'rampart rateLimit: req.ip is undefined (was the socket closed?), so such requests share one rate-limit key.',
    )
  }
}

/**
 * Adds a value to a response header, after any earlier one (another limiter's), as Express's
 * `res.append` does, without its extra work per call (`res.get`, `res.set`'s Content-Type check).
 */
function add(res, name, value) {
  const earlier = res.getHeader(name)
  if (earlier === undefined) res.setHeader(name, value)
  else res.setHeader(name, [...(Array.isArray(earlier) ? earlier : [String(earlier)]), value])
}

/** Writes the RateLimit header fields of the chosen draft, and the legacy X-RateLimit-* ones. */
function setHeaders(res, settings, info) {
  const { standardHeaders, legacyHeaders, limit, windowSeconds, identifier } = settings
  if (standardHeaders === 'draft-6') {
    res.setHeader('RateLimit-Policy', `${limit};w=${windowSeconds}`)
    res.setHeader('RateLimit-Limit', String(limit))
    res.setHeader('RateLimit-Remaining', String(info.remaining))
    res.setHeader('RateLimit-Reset', String(info.resetSeconds))
  } else if (standardHeaders === 'draft-7') {
    res.setHeader('RateLimit-Policy', `${limit};w=${windowSeconds}`)
    res.setHeader('RateLimit', `limit=${limit}, remaining=${info.remaining}, reset=${info.resetSeconds}`)
  } else if (standardHeaders === 'draft-8') {
    add(res, 'RateLimit-Policy', `"${identifier}";q=${limit};w=${windowSeconds}`)
    add(res, 'RateLimit', `"${identifier}";r=${info.remaining};t=${info.resetSeconds}`)
  }
  if (legacyHeaders) {
    res.setHeader('X-RateLimit-Limit', String(limit))
    res.setHeader('X-RateLimit-Remaining', String(info.remaining))
    res.setHeader('X-RateLimit-Reset', String(Math.ceil((Date.now() + info.resetSeconds * 1000) / 1000)))
  }
}

/**
 * Resolves a value that may be a promise, staying synchronous when it is not. A rejected promise
 * (or a `next` that throws after one) goes to `fail`, never to an unhandled rejection.
 */
function then(value, next, fail) {
  return value && typeof value.then === 'function' ? value.then(next).then(undefined, fail) : next(value)
}

const ignore = () => {}

/**
 * Express middleware that limits requests per client.
 * @param {import('./express').RateLimitOptions} [options]
 * @returns {import('./express').RateLimitMiddleware}
 */
function rateLimit(options = {}) {
  if (options === null || typeof options !== 'object') throw typeError('The "options" argument must be of type object')
  for (const name of ['keyGenerator', 'skip', 'handler', 'requestWasSuccessful']) checkFunction(options, name)
  // A store that knows its own limit and window (RateLimiter, RedisRateLimiter) gives the defaults.
  const limit = options.limit ?? (Number.isInteger(options.store?.limit) ? options.store.limit : 5)
  const windowMs = options.windowMs ?? (Number.isInteger(options.store?.windowMs) ? options.store.windowMs : 60_000)
  let standardHeaders = options.standardHeaders ?? 'draft-8'
  if (standardHeaders === true) standardHeaders = 'draft-6'
  if (standardHeaders !== false && !DRAFTS.has(standardHeaders)) {
    const error = new TypeError("The \"options.standardHeaders\" option must be false, 'draft-6', 'draft-7' or 'draft-8'")
    error.code = 'ERR_INVALID_ARG_VALUE'
    throw error
  }
  const ipv6Subnet = options.ipv6Subnet ?? 56
  if (ipv6Subnet !== false && !(Number.isInteger(ipv6Subnet) && ipv6Subnet >= 32 && ipv6Subnet <= 64)) {
    const error = new RangeError('The "options.ipv6Subnet" option must be an integer from 32 to 64, or false')
    error.code = 'ERR_OUT_OF_RANGE'
    throw error
  }
  // The native limiter validates limit, windowMs, algorithm, maxKeys, whenFull and name.
  const store =
    options.store ??
    new RateLimiter({
      limit,
      windowMs,
      algorithm: options.algorithm,
      maxKeys: options.maxKeys,
      whenFull: options.whenFull,
      name: options.name,
    })
  const settings = {
    limit,
    windowSeconds: Math.ceil(windowMs / 1000),
    standardHeaders,
    legacyHeaders: options.legacyHeaders ?? false,
    identifier: options.identifier ?? defaultIdentifier(limit, windowMs),
  }
  const statusCode = options.statusCode ?? 429
  const message = options.message ?? DEFAULT_MESSAGE
  const keyGenerator = options.keyGenerator
  const skip = options.skip ?? (() => false)
  const wasSuccessful = options.requestWasSuccessful ?? ((req, res) => res.statusCode < 400)
  const countsOnlyOutcome = Boolean(options.skipSuccessfulRequests || options.skipFailedRequests)
  const handler =
    options.handler ??
    ((req, res) => {
      res.status(statusCode)
      if (typeof message === 'object') res.json(message)
      else res.send(message)
    })
  const warned = new Set()
  // Requests still running per key, when only some outcomes count (see below).
  const inFlight = new Map()

  const respond = (req, res, next, key, result) => {
    const resetSeconds = Math.ceil((result.allowed ? result.resetMs : result.retryAfterMs) / 1000)
    const info = { remaining: result.remaining, resetSeconds }
    req.rateLimit = {
      limit,
      used: limit - result.remaining,
      remaining: result.remaining,
      resetTime: new Date(Date.now() + resetSeconds * 1000),
      key,
    }
    setHeaders(res, settings, info)
    if (result.allowed) return next()
    if (events.channels.rateLimitDenied.hasSubscribers) {
      events.rateLimitDenied({ key, ip: req.ip, method: req.method, path: events.pathOf(req), limit, retryAfterMs: result.retryAfterMs })
    }
    res.setHeader('Retry-After', String(Math.max(1, resetSeconds)))
    return handler(req, res, next, { ...options, statusCode, message })
  }

  return function rampartRateLimit(req, res, next) {
    let key
    try {
      if (skip(req, res)) return next()
      // req.ip is a getter that Express recomputes on every read: read it once.
      const ip = req.ip
      checkProxySetup(req, ip, warned)
      key = keyGenerator === undefined ? ipKeyGenerator(ip, ipv6Subnet) : String(keyGenerator(req, res) ?? '')
      const fail = (error) => next(error)
      if (!countsOnlyOutcome) return then(store.hit(key), (result) => respond(req, res, next, key, result), fail)
      // Count only the outcomes that matter, without charging first and refunding later:
      // requests still running on this key are reserved in the check, and a finished request
      // is charged only if it counts.
      const pending = inFlight.get(key) ?? 0
      if (pending + 1 > limit) return respond(req, res, next, key, { allowed: false, remaining: 0, resetMs: 1000, retryAfterMs: 1000 })
      return then(store.peek(key, pending + 1), (result) => {
        if (!result.allowed) return respond(req, res, next, key, result)
        inFlight.set(key, pending + 1)
        let settled = false
        const settle = () => {
          if (settled) return
          settled = true
          const left = (inFlight.get(key) ?? 1) - 1
          if (left > 0) inFlight.set(key, left)
          else inFlight.delete(key)
          const success = res.writableFinished ? wasSuccessful(req, res) : false
          if ((success && !options.skipSuccessfulRequests) || (!success && !options.skipFailedRequests)) then(store.hit(key), ignore, ignore)
        }
        res.once('finish', settle)
        res.once('close', settle)
        return respond(req, res, next, key, { ...result, remaining: Math.max(0, result.remaining) })
      }, fail)
    } catch (error) {
      return next(error)
    }
  }
}

/**
 * A store for express-rate-limit backed by the native table: `rateLimit({ store: new RampartStore() })`.
 * express-rate-limit keeps deciding; this only counts hits per client window.
 */
class RampartStore {
  /** @param {{ name?: string, maxKeys?: number }} [options] */
  constructor(options = {}) {
    this.options = options
    this.localKeys = !options.name
    this.prefix = options.name ?? ''
    this.limiter = undefined
    this.windowMs = 60_000
  }

  init(options) {
    this.windowMs = options.windowMs ?? 60_000
    // Count without ever denying, in windows that start at a client's first hit, like
    // express-rate-limit's MemoryStore: the middleware compares totalHits with its own limit.
    this.limiter = new RateLimiter({
      limit: 0xffffffff,
      windowMs: this.windowMs,
      algorithm: 'fixed-window',
      maxKeys: this.options.maxKeys,
      name: this.options.name,
    })
  }

  #info(result) {
    return {
      totalHits: result.limit - result.remaining,
      resetTime: new Date(Date.now() + (result.resetMs || this.windowMs)),
    }
  }

  get(key) {
    const result = this.limiter.peek(key, 0)
    return result.remaining === result.limit ? undefined : this.#info(result)
  }

  increment(key) {
    return this.#info(this.limiter.hit(key))
  }

  decrement(key) {
    this.limiter.refund(key)
  }

  resetKey(key) {
    this.limiter.reset(key)
  }

  resetAll() {
    this.limiter.clear()
  }
}

/**
 * Serves a public JWK Set (for /.well-known/jwks.json) from signers (their `jwks()`), JWK Sets or
 * public JWKs, e.g. `jwksHandler(currentSigner, previousPublicJwk)` during a rotation. The body is
 * built once; `Cache-Control: public, max-age=<maxAgeSeconds>` (default 300). Private or secret
 * keys are refused (TypeError), never published.
 */
function jwksHandler(...sources) {
  let maxAge = 300
  const last = sources.at(-1)
  if (last !== null && typeof last === 'object' && !Array.isArray(last.keys) && typeof last.jwks !== 'function' && last.kty === undefined) {
    sources.pop()
    if (last.maxAgeSeconds !== undefined) {
      if (!Number.isInteger(last.maxAgeSeconds) || last.maxAgeSeconds < 0 || last.maxAgeSeconds > 86400) {
        throw new RangeError('The "maxAgeSeconds" option must be an integer from 0 to 86400')
      }
      maxAge = last.maxAgeSeconds
    }
  }
  const keys = []
  // At most 100 sources, arrays included (a hostile sparse array of length 2^32-1 would take
  // minutes to flatten).
  if (sources.length > 100 || sources.some((source) => Array.isArray(source) && source.length > 100)) {
    const error = new RangeError('jwksHandler takes at most 100 signers, sets or keys')
    error.code = 'ERR_OUT_OF_RANGE'
    throw error
  }
  for (const source of sources.flat()) {
    const set = typeof source?.jwks === 'function' ? source.jwks() : source
    const list = Array.isArray(set?.keys) ? set.keys : [set]
    for (const jwk of list) {
      if (jwk === null || typeof jwk !== 'object' || typeof jwk.kty !== 'string') throw typeError('jwksHandler takes JwtSigners, JWK Sets or public JWKs')
      if (jwk.kty === 'oct' || 'd' in jwk) throw typeError('jwksHandler refuses private and secret keys: publish public keys only')
      keys.push(jwk)
    }
  }
  if (keys.length === 0) throw typeError('jwksHandler needs at least one key')
  const body = JSON.stringify({ keys })
  const cacheControl = `public, max-age=${maxAge}`
  return function jwks(req, res) {
    res.setHeader('Content-Type', 'application/jwk-set+json')
    res.setHeader('Cache-Control', cacheControl)
    res.end(body)
  }
}

const { RampartRedisStore } = require('./redis.js')

module.exports = {
  rateLimit,
  RampartStore,
  RampartRedisStore,
  LoginGuard,
  ipKeyGenerator,
  requireJwt,
  authorize,
  errorHandler,
  csrf,
  CSRF_CODES,
  deriveKey,
  jwksHandler,
}
