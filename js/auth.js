'use strict'
// `rampart/express` authentication helpers: Bearer JWTs (RFC 6750), role checks, and an error
// handler that keeps details out of production responses and secrets out of the logs.

const { Redactor } = require('./index.js')
const events = require('./events.js')

/** Short, fixed descriptions for `WWW-Authenticate`, by verifier error code (never the token). */
const DESCRIPTIONS = {
  ERR_JWT_EXPIRED: 'The access token expired',
  ERR_JWT_NOT_YET_VALID: 'The access token is not valid yet',
  ERR_JWT_SIGNATURE_INVALID: 'The access token signature is invalid',
  ERR_JWT_ALG_NOT_ALLOWED: 'The access token algorithm is not accepted',
  ERR_JWT_KEY_NOT_FOUND: 'The access token key is unknown',
  ERR_JWT_CLAIM_INVALID: 'The access token claims are invalid',
  ERR_JWT_MALFORMED: 'The access token is malformed',
}

function typeError(message) {
  const error = new TypeError(message)
  error.code = 'ERR_INVALID_ARG_TYPE'
  return error
}

function challenge(realm, error, description) {
  let value = `Bearer realm="${realm}"`
  if (error) value += `, error="${error}"`
  if (description) value += `, error_description="${description}"`
  return value
}

/** The token of `Authorization: Bearer <token>`, `null` when absent, `undefined` when malformed. */
function bearerToken(req) {
  const header = req.headers.authorization
  if (header === undefined) return null
  if (typeof header !== 'string') return undefined
  const match = /^Bearer ([A-Za-z0-9\-._~+/]+=*)$/i.exec(header)
  return match ? match[1] : undefined
}

/**
 * Requires a valid Bearer JWT: sets `req.auth` to its payload, or answers 401 with an RFC 6750
 * `WWW-Authenticate` header and `{ error, code }` (never echoing the token).
 * @param {import('./express').RequireJwtOptions} options
 */
const ASYNC = Symbol.for('rampart.jwt.async')

function requireJwt(options) {
  if (options === null || typeof options !== 'object' || typeof options.verifier?.verify !== 'function') {
    throw typeError('requireJwt needs { verifier: JwtVerifier }')
  }
  const { verifier, realm = 'api', requestProperty = 'auth', credentialsRequired = true } = options
  const getToken = options.getToken ?? bearerToken
  if (typeof getToken !== 'function') throw typeError('The "options.getToken" option must be a function')
  const rejected = (req, code) => {
    if (events.channels.jwtRejected.hasSubscribers) events.jwtRejected({ code, ip: req.ip, method: req.method, path: events.pathOf(req) })
  }
  return function requireJwtMiddleware(req, res, next) {
    const token = getToken(req)
    if (token === null && !credentialsRequired) return next()
    if (token === null) {
      rejected(req, 'ERR_JWT_MISSING')
      res.setHeader('WWW-Authenticate', challenge(realm))
      return res.status(401).json({ error: 'unauthorized', code: 'ERR_JWT_MISSING' })
    }
    if (typeof token !== 'string') {
      rejected(req, 'ERR_JWT_MALFORMED')
      res.setHeader('WWW-Authenticate', challenge(realm, 'invalid_request', 'Use Authorization: Bearer <token>'))
      return res.status(400).json({ error: 'invalid_request', code: 'ERR_JWT_MALFORMED' })
    }
    const refuse = (error) => {
      if (!DESCRIPTIONS[error?.code]) return next(error)
      rejected(req, error.code)
      res.setHeader('WWW-Authenticate', challenge(realm, 'invalid_token', DESCRIPTIONS[error.code]))
      return res.status(401).json({ error: 'invalid_token', code: error.code })
    }
    if (verifier[ASYNC]) {
      // A remote JWKS verifier: waits for a needed key-set fetch (cached keys answer at once).
      verifier.verifyAsync(token).then((payload) => {
        req[requestProperty] = payload
        next()
      }, refuse)
      return
    }
    let payload
    try {
      payload = verifier.verify(token)
    } catch (error) {
      return refuse(error)
    }
    req[requestProperty] = payload
    next()
  }
}

/**
 * Allows the request only when `req.auth` has one of `roles` (its `role` string or `roles`
 * array): 401 without authentication, 403 with the wrong role.
 * @param {...(string | string[])} roles
 */
function authorize(...roles) {
  // A role list is configuration, but a sparse array of length 2**32-1 would take minutes to flatten.
  if (roles.length > 1000 || roles.some((r) => Array.isArray(r) && r.length > 1000)) {
    throw Object.assign(new RangeError('authorize takes at most 1000 role names'), { code: 'ERR_OUT_OF_RANGE' })
  }
  const allowed = new Set(roles.flat())
  if (allowed.size === 0 || [...allowed].some((r) => typeof r !== 'string')) {
    throw typeError('authorize needs one or more role names')
  }
  return function authorizeMiddleware(req, res, next) {
    const auth = req.auth
    if (!auth) {
      res.setHeader('WWW-Authenticate', challenge('api'))
      return res.status(401).json({ error: 'unauthorized' })
    }
    const held = [auth.role, ...(Array.isArray(auth.roles) ? auth.roles : [])].filter((r) => typeof r === 'string')
    if (!held.some((role) => allowed.has(role))) {
      res.setHeader('WWW-Authenticate', challenge('api', 'insufficient_scope'))
      return res.status(403).json({ error: 'forbidden' })
    }
    next()
  }
}

/**
 * The last middleware: logs the error (through `logger`, or redacted to stderr) and answers with
 * its status. In production, 5xx answers say only "Internal Server Error"; 4xx answers keep the
 * message of errors marked `expose` (as http-errors and body-parser do).
 * @param {import('./express').ErrorHandlerOptions} [options]
 */
function errorHandler(options = {}) {
  // Production-safe unless NODE_ENV is exactly 'development' or `production: false` is given
  // (an unset NODE_ENV is treated as production: no raw messages or details in responses).
  const production = options.production ?? process.env.NODE_ENV !== 'development'
  const redactor = options.redactor ?? new Redactor()
  const log =
    options.logger?.error?.bind(options.logger) ??
    ((fields) => process.stderr.write(`${redactor.redactJson(JSON.stringify(fields))}\n`))
  return function errorHandlerMiddleware(error, req, res, next) {
    if (res.headersSent) return next(error)
    const status = Number.isInteger(error?.status ?? error?.statusCode) ? (error.status ?? error.statusCode) : 500
    const code = status >= 400 && status < 600 ? status : 500
    log({
      err: { message: redactor.redactText(String(error?.message)), stack: error?.stack && redactor.redactText(error.stack), code: error?.code },
      // Query strings carry tokens (OAuth codes, reset links): the URL is redacted too.
      req: { method: req.method, url: redactor.redactText(String(req.originalUrl ?? req.url ?? '')) },
      status: code,
    })
    const expose = code < 500 && (error?.expose ?? !production)
    const body = { error: expose ? String(error.message) : code >= 500 ? 'Internal Server Error' : 'Bad Request' }
    if (!production && code >= 500) body.detail = redactor.redactText(String(error?.message))
    res.status(code).json(body)
  }
}

module.exports = { requireJwt, authorize, errorHandler, bearerToken }
