'use strict'
// The secured Express API from the "how to secure your Node.js API" guides, built with rampart:
// argon2id passwords with a login guard and a strict rate limit on /auth, short-lived EdDSA access
// tokens with rotating refresh tokens, role checks, a field encrypted at rest, helmet and a CORS
// allow-list, generic errors in production, and logs with no secrets in them. Also: TOTP
// two-factor login with recovery codes (./mfa.js), a refresh-token cookie with CSRF protection
// (./session-cookie.js), and security events in the log (./security-events.js).

const { createHash, randomBytes } = require('node:crypto')
const { join } = require('node:path')

const cors = require('cors')
const express = require('express')
const helmet = require('helmet')
const pino = require('pino')
const { JwtSigner, JwtVerifier, Keyring, Redactor, hashPassword, needsRehash, verifyPassword } = require('rampart')
const { LoginGuard, authorize, errorHandler, jwksHandler, rateLimit, requireJwt } = require('rampart/express')
const { pinoRedaction } = require('rampart/logging')

const { createMfa } = require('./mfa.js')
const { logSecurityEvents } = require('./security-events.js')
const { mountCookieSession, refreshCookie } = require('./session-cookie.js')
const { body } = require('./validate.js')

const ISSUER = 'rampart-example'
const AUDIENCE = 'rampart-example-api'
const MINUTE = 60_000
const REFRESH_TTL_S = 7 * 24 * 3600

const sha256 = (text) => createHash('sha256').update(text).digest('base64url')
const now = () => Math.floor(Date.now() / 1000)

/**
 * @param {object} config
 * @param {Awaited<ReturnType<typeof import('./db.js').openDatabase>>} config.db
 * @param {{ JWT_PRIVATE_KEY: string, JWT_PUBLIC_KEY: string, DATA_KEY: string, MASTER_SECRET: string }} config.secrets
 * @param {import('node:stream').Writable} [config.logStream] where JSON log lines go (default stdout)
 * @param {boolean} [config.production] generic error bodies (default NODE_ENV === 'production')
 * @param {string[]} [config.corsOrigins] allowed browser origins
 * @param {{ authPerWindow?: number, apiPerWindow?: number, loginFailures?: number, mfaFailures?: number }} [config.limits]
 */
async function createApp({ db, secrets, logStream, production, corsOrigins = ['http://localhost:5173'], limits = {} }) {
  const redactor = new Redactor()
  const logger = pino({ hooks: pinoRedaction(redactor), base: { service: ISSUER } }, logStream ?? process.stdout)
  const stopSecurityEvents = logSecurityEvents(logger)
  const signer = new JwtSigner({ algorithm: 'EdDSA', key: secrets.JWT_PRIVATE_KEY, keyId: 'k1', issuer: ISSUER, audience: AUDIENCE, expiresIn: 900 })
  const verifier = new JwtVerifier({ algorithms: ['EdDSA'], key: secrets.JWT_PUBLIC_KEY, issuer: ISSUER, audience: AUDIENCE })
  const ring = new Keyring({ keys: [{ id: 'data-1', key: secrets.DATA_KEY }], primary: 'data-1' })
  const guard = new LoginGuard({ maxConsecutiveFailures: limits.loginFailures ?? 5, blockMs: 15 * MINUTE })
  // Verifying against this for unknown emails keeps login time the same whether or not the account exists.
  const dummyHash = await hashPassword(randomBytes(16).toString('hex'))
  const mfa = createMfa({ db, ring, masterSecret: secrets.MASTER_SECRET, issuer: ISSUER, limits })

  const app = express()
  app.disable('x-powered-by')
  app.set('trust proxy', false) // set to the number of proxies in front of the app, if any
  app.use(helmet())
  app.use(cors({ origin: corsOrigins, methods: ['GET', 'POST', 'PUT'], allowedHeaders: ['Content-Type', 'Authorization'] }))
  app.use(express.json({ limit: '16kb' }))
  app.use((req, res, next) => {
    const start = process.hrtime.bigint()
    res.on('finish', () => {
      const ms = Number(process.hrtime.bigint() - start) / 1e6
      logger.info({ req: { method: req.method, url: req.originalUrl, headers: req.headers }, res: { statusCode: res.statusCode }, responseTime: ms }, 'request')
    })
    next()
  })
  const tooMany = { error: 'too many requests; try again later' }
  app.use(rateLimit({ limit: limits.apiPerWindow ?? 300, windowMs: 15 * MINUTE, message: tooMany }))
  // Stricter on /auth, counting only failed attempts (a user who logs in fine is never limited).
  const authLimit = rateLimit({ limit: limits.authPerWindow ?? 10, windowMs: 15 * MINUTE, skipSuccessfulRequests: true, message: tooMany })

  const phoneContext = (id) => `users.phone:${id}`
  const profile = (user) => ({
    id: user.id,
    email: user.email,
    role: user.role,
    phone: user.phone ? ring.decryptString(user.phone, { context: phoneContext(user.id) }).toString() : null,
  })

  /** New tokens for `user`; the refresh token also goes in an HttpOnly cookie for browsers. */
  function issueTokens(user, res) {
    const refreshToken = randomBytes(32).toString('base64url')
    db.run('INSERT INTO refresh_tokens (id, user_id, expires_at) VALUES (?, ?, ?)', [sha256(refreshToken), user.id, now() + REFRESH_TTL_S])
    res.append('Set-Cookie', refreshCookie(refreshToken, REFRESH_TTL_S))
    return {
      tokenType: 'Bearer',
      accessToken: signer.sign({ sub: String(user.id), role: user.role }),
      expiresIn: 900,
      refreshToken,
    }
  }

  app.get('/health', (_req, res) => res.json({ status: 'ok' }))
  // The sign-in page (public/mfa.html): static files, scripts from 'self' only (helmet's CSP).
  app.use(express.static(join(__dirname, 'public'), { index: false }))
  // Other services verify this API's tokens with new RemoteJwks('https://<host>/.well-known/jwks.json').
  app.get('/.well-known/jwks.json', jwksHandler(signer))

  app.post('/auth/register', authLimit, body(['email', 'password'], ['phone']), async (req, res) => {
    const email = req.body.email.toLowerCase()
    if (db.get('SELECT id FROM users WHERE email = ?', [email])) {
      return res.status(409).json({ error: 'an account with this email exists' })
    }
    const hash = await hashPassword(req.body.password)
    // The first account is the administrator, so the example can show role checks.
    const role = db.get('SELECT COUNT(*) AS n FROM users').n === 0 ? 'admin' : 'user'
    const id = db.run('INSERT INTO users (email, password_hash, role, created_at) VALUES (?, ?, ?, ?)', [email, hash, role, now()])
    if (req.body.phone) {
      db.run('UPDATE users SET phone = ? WHERE id = ?', [ring.encryptToString(req.body.phone, { context: phoneContext(id) }), id])
    }
    res.status(201).json(profile(db.get('SELECT * FROM users WHERE id = ?', [id])))
  })

  app.post('/auth/login', authLimit, body(['email', 'password']), async (req, res) => {
    const email = req.body.email.toLowerCase()
    // Reserve the attempt before checking the password; settle it after. Unknown accounts are
    // checked against a dummy hash, so the answer takes as long as for a real one.
    const gate = await guard.begin({ username: email, ip: req.ip ?? 'unknown' })
    if (!gate.allowed) {
      res.setHeader('Retry-After', String(Math.ceil(gate.retryAfterMs / 1000)))
      return res.status(429).json({ error: 'too many failed attempts; try again later' })
    }
    const user = db.get('SELECT * FROM users WHERE email = ?', [email])
    const ok = await verifyPassword(user?.password_hash ?? dummyHash, req.body.password)
    if (!user || !ok) {
      await gate.failure()
      return res.status(401).json({ error: 'invalid email or password' })
    }
    await gate.success()
    if (needsRehash(user.password_hash)) {
      db.run('UPDATE users SET password_hash = ? WHERE id = ?', [await hashPassword(req.body.password), user.id])
    }
    // With two-factor authentication on, the password only earns a token for the code step.
    if (user.totp_secret) return res.json(mfa.challenge(user))
    res.json(issueTokens(user, res))
  })

  /** Spends a refresh token: `{ user }` once, `{}` for unknown, expired or reused ones. */
  function rotate(token) {
    if (typeof token !== 'string') return {}
    const stored = db.get('SELECT * FROM refresh_tokens WHERE id = ?', [sha256(token)])
    if (!stored || stored.expires_at <= now()) return {}
    if (stored.used_at !== null) {
      // A rotated-out token came back: someone has a copy. End every session of this user.
      db.run('DELETE FROM refresh_tokens WHERE user_id = ?', [stored.user_id])
      logger.warn({ userId: stored.user_id }, 'refresh token reuse; all sessions revoked')
      return {}
    }
    db.run('UPDATE refresh_tokens SET used_at = ? WHERE id = ?', [now(), stored.id])
    return { user: db.get('SELECT * FROM users WHERE id = ?', [stored.user_id]) }
  }

  app.post('/auth/refresh', authLimit, body(['token']), (req, res) => {
    const { user } = rotate(req.body.token)
    if (!user) return res.status(401).json({ error: 'invalid refresh token' })
    res.json(issueTokens(user, res))
  })

  const authenticated = requireJwt({ verifier })
  mfa.mount(app, { authenticated, authLimit, body, issueTokens })
  mountCookieSession(app, { masterSecret: secrets.MASTER_SECRET, rotate, issueTokens, authLimit })

  app.get('/me', authenticated, (req, res) => {
    const user = db.get('SELECT * FROM users WHERE id = ?', [Number(req.auth.sub)])
    if (!user) return res.status(404).json({ error: 'no such user' })
    res.json(profile(user))
  })

  app.put('/me/phone', authenticated, body(['phone']), (req, res) => {
    const id = Number(req.auth.sub)
    db.run('UPDATE users SET phone = ? WHERE id = ?', [ring.encryptToString(req.body.phone, { context: phoneContext(id) }), id])
    res.json(profile(db.get('SELECT * FROM users WHERE id = ?', [id])))
  })

  app.get('/admin/users', authenticated, authorize('admin'), (_req, res) => {
    res.json(db.all('SELECT id, email, role, created_at AS createdAt FROM users ORDER BY id'))
  })

  app.use((_req, res) => res.status(404).json({ error: 'not found' }))
  app.use(errorHandler({ logger, redactor, production }))
  return { app, logger, close: stopSecurityEvents }
}

module.exports = { createApp, ISSUER, AUDIENCE }
