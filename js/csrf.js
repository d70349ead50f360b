'use strict'
// CSRF protection for cookie-authenticated Express routes, as OWASP's CSRF cheat sheet
// recommends when there is no server-side token store:
// 1. Fetch Metadata and Origin first: unsafe requests a browser marks cross-site
//    (`Sec-Fetch-Site`), or whose `Origin` is not the app's own, are refused outright.
// 2. Then the signed double-submit cookie bound to the session: the token is
//    HMAC-SHA-256(key, len(sid)!sid!len(rand)!rand) "." rand, set in a `__Host-` cookie and sent
//    back in a header or form field (never accepted from the cookie alone); it must equal the
//    cookie and verify for the current session id, compared in constant time.
// The HMAC key is an HKDF subkey of the app's master secret (purpose 'csrf'), so it is never
// the JWT key, a Keyring key or any other purpose's key.

const { createHmac, randomBytes, timingSafeEqual } = require('node:crypto')

const events = require('./events.js')
const { coded, deriveKey } = require('./keys.js')

const TOKEN = /^[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]{43}$/
const SAFE = ['GET', 'HEAD', 'OPTIONS', 'TRACE']
const MAX_SESSION_ID = 1024

/** Stable codes of the 403 answers (also the `code` of rampart:csrf.rejected events). */
const CODES = Object.freeze({
  crossSite: 'ERR_CSRF_CROSS_SITE',
  origin: 'ERR_CSRF_ORIGIN',
  missing: 'ERR_CSRF_TOKEN_MISSING',
  invalid: 'ERR_CSRF_TOKEN_INVALID',
  noSession: 'ERR_CSRF_NO_SESSION',
})

function typeError(message) {
  return coded(TypeError, 'ERR_INVALID_ARG_TYPE', message)
}

function valueError(message) {
  return coded(TypeError, 'ERR_INVALID_ARG_VALUE', message)
}

function sign(key, sessionId, rand) {
  const sid = Buffer.from(sessionId, 'utf8')
  return createHmac('sha256', key).update(`rampart-csrf-v1!${sid.length}!`).update(sid).update(`!${rand.length}!${rand}`).digest('base64url')
}

function sameText(a, b) {
  const x = Buffer.from(a)
  const y = Buffer.from(b)
  return x.length === y.length && timingSafeEqual(x, y)
}

/** One cookie's value from the Cookie header, or undefined. No decoding: tokens are base64url. */
function readCookie(header, name) {
  if (typeof header !== 'string' || header.length > 16_384) return undefined
  for (const part of header.split(';')) {
    const eq = part.indexOf('=')
    if (eq !== -1 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim()
  }
  return undefined
}

function normalizeOrigin(origin) {
  try {
    const url = new URL(origin)
    if (url.origin === 'null') throw new Error('opaque')
    return url.origin
  } catch {
    throw valueError(`The "options.origins" option has an entry that is not an origin (scheme://host[:port])`)
  }
}

/**
 * CSRF middleware. Adds `req.csrfToken()`, which returns the session's token (setting the
 * cookie when needed); the client sends it back in the `X-CSRF-Token` header or the `_csrf`
 * field of a parsed form body.
 * @param {import('./express').CsrfOptions} options
 */
function csrf(options) {
  if (options === null || typeof options !== 'object') throw typeError('The "options" argument must be of type object')
  const secrets = Array.isArray(options.secret) ? options.secret : [options.secret]
  if (secrets.length === 0) throw typeError('The "options.secret" option must be a master secret (or an array, newest first)')
  // Newest key signs; every key verifies, so the master secret can be rotated without
  // invalidating the tokens of open sessions.
  const keys = secrets.map((secret) => deriveKey(secret, 'csrf'))
  if (typeof options.getSessionId !== 'function') throw typeError('The "options.getSessionId" option must be a function (req) => session id')
  const getSessionId = options.getSessionId
  const cookieName = options.cookieName ?? '__Host-csrf'
  if (typeof cookieName !== 'string' || !/^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,64}$/.test(cookieName)) {
    throw valueError('The "options.cookieName" option must be a cookie name')
  }
  const cookie = { secure: true, httpOnly: true, sameSite: 'Lax', path: '/', ...options.cookie }
  if (!['Strict', 'Lax', 'None'].includes(cookie.sameSite)) throw valueError("The \"options.cookie.sameSite\" option must be 'Strict', 'Lax' or 'None'")
  if (cookieName.startsWith('__Host-') && (cookie.secure !== true || cookie.path !== '/' || cookie.domain !== undefined)) {
    throw valueError('A __Host- cookie must be Secure, with Path=/ and no Domain (use another cookieName to change that)')
  }
  if (cookie.sameSite === 'None' && cookie.secure !== true) throw valueError('SameSite=None cookies must be Secure')
  const headerName = (options.headerName ?? 'x-csrf-token').toLowerCase()
  const fieldName = options.fieldName ?? '_csrf'
  const origins = options.origins === undefined ? undefined : new Set([].concat(options.origins).map(normalizeOrigin))
  const safeMethods = new Set((options.ignoredMethods ?? SAFE).map((m) => String(m).toUpperCase()))
  const handler =
    options.handler ??
    ((req, res, next, code) => {
      res.status(403).json({ error: 'forbidden', code })
    })
  if (typeof handler !== 'function') throw typeError('The "options.handler" option must be a function')

  let attributes = `; Path=${cookie.path}`
  if (cookie.domain !== undefined) attributes += `; Domain=${cookie.domain}`
  if (cookie.secure) attributes += '; Secure'
  if (cookie.httpOnly) attributes += '; HttpOnly'
  attributes += `; SameSite=${cookie.sameSite}`
  if (cookie.maxAge !== undefined) attributes += `; Max-Age=${Math.floor(Number(cookie.maxAge) / 1000)}`

  const sessionIdOf = (req) => {
    const sid = getSessionId(req)
    if (sid === undefined || sid === null || sid === '') return null
    const text = String(sid)
    return text.length > MAX_SESSION_ID ? null : text
  }

  /** Whether `token` is well formed and signed for `sid` by any of the keys. */
  const verify = (token, sid) => {
    if (typeof token !== 'string' || !TOKEN.test(token)) return false
    const [mac, rand] = token.split('.')
    let ok = false
    for (const key of keys) ok = sameText(mac, sign(key, sid, rand)) || ok
    return ok
  }

  const issue = (sid) => {
    const rand = randomBytes(32).toString('base64url')
    return `${sign(keys[0], sid, rand)}.${rand}`
  }

  const ownOrigins = (req) => {
    if (origins) return origins
    const host = req.headers.host
    const protocol = req.protocol ?? (req.socket?.encrypted ? 'https' : 'http')
    return new Set(typeof host === 'string' ? [`${protocol}://${host}`] : [])
  }

  const reject = (req, res, next, code, site) => {
    events.csrfRejected({ code, ip: req.ip, method: req.method, path: events.pathOf(req), site })
    return handler(req, res, next, code)
  }

  return function csrfMiddleware(req, res, next) {
    try {
      let issued
      req.csrfToken = () => {
        const sid = sessionIdOf(req)
        if (sid === null) throw coded(Error, CODES.noSession, 'csrfToken() needs a session: getSessionId(req) returned nothing')
        if (issued?.sid === sid) return issued.token
        const current = readCookie(req.headers.cookie, cookieName)
        const token = verify(current, sid) ? current : issue(sid)
        if (token !== current) res.append('Set-Cookie', `${cookieName}=${token}${attributes}`)
        issued = { sid, token }
        return token
      }
      if (safeMethods.has(req.method)) return next()

      // Layer 1: what the browser says about where the request comes from.
      const site = req.headers['sec-fetch-site']
      const allowed = ownOrigins(req)
      const origin = req.headers.origin
      if (site === 'cross-site') return reject(req, res, next, CODES.crossSite, site)
      if (site === 'same-site' && !(typeof origin === 'string' && allowed.has(origin))) return reject(req, res, next, CODES.crossSite, site)
      if (origin !== undefined && !(typeof origin === 'string' && allowed.has(origin))) return reject(req, res, next, CODES.origin, site)

      // Layer 2: the session-bound token, from the header or the form field, equal to the cookie.
      const header = req.headers[headerName]
      const field = req.body !== null && typeof req.body === 'object' ? req.body[fieldName] : undefined
      const sent = typeof header === 'string' ? header : typeof field === 'string' ? field : undefined
      const fromCookie = readCookie(req.headers.cookie, cookieName)
      if (sent === undefined || fromCookie === undefined) return reject(req, res, next, CODES.missing, site)
      const sid = sessionIdOf(req)
      if (sid === null) return reject(req, res, next, CODES.noSession, site)
      if (!(sent.length === fromCookie.length && sameText(sent, fromCookie) && verify(sent, sid))) {
        return reject(req, res, next, CODES.invalid, site)
      }
      return next()
    } catch (error) {
      return next(error)
    }
  }
}

module.exports = { csrf, CSRF_CODES: CODES }
