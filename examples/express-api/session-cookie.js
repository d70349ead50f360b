'use strict'
// The refresh token in a cookie, for browser clients: HttpOnly, so page scripts (and XSS) never
// see it, and therefore sent by the browser on its own, so the route that spends it needs CSRF
// protection. rampart's csrf() checks Fetch Metadata and Origin, then a token bound to this
// refresh session (the SHA-256 of the cookie), sent back in the X-CSRF-Token header.

const { createHash } = require('node:crypto')

const { csrf } = require('rampart/express')

const COOKIE = '__Host-refresh'
const sha256 = (text) => createHash('sha256').update(text).digest('base64url')

function readCookie(req, name) {
  for (const part of String(req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=')
    if (eq !== -1 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim()
  }
  return undefined
}

/** `Set-Cookie` value for a refresh token (Secure; browsers allow it on http://localhost). */
function refreshCookie(token, maxAgeSeconds) {
  return `${COOKIE}=${token}; Path=/; Max-Age=${maxAgeSeconds}; Secure; HttpOnly; SameSite=Strict`
}

/**
 * @param {object} deps
 * @param {string} deps.masterSecret
 * @param {(token: string) => { user?: any, error?: string }} deps.rotate spends a refresh token
 * @param {(user: any, res: any) => object} deps.issueTokens
 */
function mountCookieSession(app, { masterSecret, rotate, issueTokens, authLimit }) {
  // The CSRF session is the refresh token (its hash): a token from another session, or from
  // before a rotation, is refused. After rotating, the handler names the new session.
  const protect = csrf({
    secret: masterSecret,
    getSessionId: (req) => req.refreshSession ?? (readCookie(req, COOKIE) ? sha256(readCookie(req, COOKIE)) : undefined),
  })

  // A page asks for the CSRF token of its session (same origin: CORS does not expose it elsewhere).
  app.get('/auth/csrf', protect, (req, res) => {
    if (!readCookie(req, COOKIE)) return res.status(401).json({ error: 'not logged in' })
    res.json({ csrfToken: req.csrfToken() })
  })

  app.post('/auth/refresh-cookie', authLimit, protect, (req, res) => {
    const result = rotate(readCookie(req, COOKIE))
    if (!result.user) return res.status(401).json({ error: 'invalid refresh token' })
    const tokens = issueTokens(result.user, res)
    req.refreshSession = sha256(tokens.refreshToken)
    // The refresh token stays in its cookie; the page gets the access token and a new CSRF token.
    res.json({ tokenType: tokens.tokenType, accessToken: tokens.accessToken, expiresIn: tokens.expiresIn, csrfToken: req.csrfToken() })
  })

  app.post('/auth/logout', protect, (req, res) => {
    res.append('Set-Cookie', `${COOKIE}=; Path=/; Max-Age=0; Secure; HttpOnly; SameSite=Strict`)
    res.json({ ok: true })
  })
}

module.exports = { mountCookieSession, refreshCookie, COOKIE }
