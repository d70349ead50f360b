'use strict'
// Second factor for the example: TOTP enrolment (otpauth:// URI and QR code; the secret stored
// encrypted with the Keyring, bound to the user id), the code step of login, and one-time
// recovery codes stored as keyed hashes in the database.

const { createHash, randomBytes } = require('node:crypto')

const { Totp } = require('rampart')
const { RecoveryCodes, TotpGuard, deriveKey } = require('rampart/mfa')

const MFA_TOKEN_TTL_MS = 5 * 60_000
const MFA_TOKEN_ATTEMPTS = 5

const sha256 = (text) => createHash('sha256').update(text).digest('base64url')

/** Recovery-code hashes in SQLite. sql.js is synchronous, so each DELETE is atomic. */
function sqlRecoveryStore(db) {
  return {
    replace(account, hashes) {
      db.change('DELETE FROM recovery_codes WHERE user_id = ?', [Number(account)])
      const rows = hashes.map(() => '(?, ?)').join(', ')
      db.change(`INSERT INTO recovery_codes (user_id, hash) VALUES ${rows}`, hashes.flatMap((hash) => [Number(account), hash]))
    },
    consume(account, hash) {
      return db.change('DELETE FROM recovery_codes WHERE user_id = ? AND hash = ?', [Number(account), hash]) === 1
    },
    count(account) {
      return db.get('SELECT COUNT(*) AS n FROM recovery_codes WHERE user_id = ?', [Number(account)]).n
    },
  }
}

/**
 * The last accepted TOTP step per user, in the users table (the TotpStepStore interface). The
 * conditional UPDATE is the atomic compare-and-set: it changes the row only for a newer step, so
 * a code is accepted once even across restarts, and across processes on a shared database.
 */
function sqlStepStore(db) {
  return {
    get(account) {
      return db.get('SELECT totp_last_step AS step FROM users WHERE id = ?', [Number(account)])?.step ?? null
    },
    advance(account, step) {
      const sql = 'UPDATE users SET totp_last_step = ? WHERE id = ? AND (totp_last_step IS NULL OR totp_last_step < ?)'
      return db.change(sql, [step, Number(account), step]) === 1
    },
  }
}

/**
 * @param {object} deps
 * @param {any} deps.db the database of ./db.js
 * @param {import('rampart').Keyring} deps.ring
 * @param {string} deps.masterSecret
 * @param {string} deps.issuer
 * @param {{ mfaFailures?: number }} [deps.limits]
 */
function createMfa({ db, ring, masterSecret, issuer, limits = {} }) {
  // Last steps in the database; the failure counts in memory (a shared limiter with several instances).
  const guard = new TotpGuard({ store: sqlStepStore(db), maxConsecutiveFailures: limits.mfaFailures ?? 5, blockMs: 5 * 60_000 })
  const recovery = new RecoveryCodes({ key: deriveKey(masterSecret, 'recovery-codes'), store: sqlRecoveryStore(db) })
  // Logins waiting for their second factor: SHA-256 of the one-time token -> user and expiry.
  const pending = new Map()

  const secretContext = (column, id) => `users.${column}:${id}`
  const totpOf = (user, column = 'totp_secret') => new Totp({ secret: ring.decryptString(user[column], { context: secretContext(column, user.id) }).toString() })

  /** The answer to a correct password when MFA is on: a short-lived token for the code step. */
  function challenge(user) {
    const now = Date.now()
    for (const [key, entry] of pending) if (entry.expiresAt <= now) pending.delete(key)
    const mfaToken = randomBytes(32).toString('base64url')
    pending.set(sha256(mfaToken), { userId: user.id, expiresAt: now + MFA_TOKEN_TTL_MS, attempts: 0 })
    return { mfaRequired: true, mfaToken, expiresIn: MFA_TOKEN_TTL_MS / 1000 }
  }

  /** Routes: enrolment for a logged-in user, and the code step of login. */
  function mount(app, { authenticated, authLimit, body, issueTokens }) {
    app.post('/mfa/enroll', authenticated, (req, res) => {
      const user = db.get('SELECT * FROM users WHERE id = ?', [Number(req.auth.sub)])
      if (!user) return res.status(404).json({ error: 'no such user' })
      if (user.totp_secret) return res.status(409).json({ error: 'two-factor authentication is already on' })
      const secret = Totp.generateSecret()
      db.run('UPDATE users SET totp_pending = ? WHERE id = ?', [ring.encryptToString(secret, { context: secretContext('totp_pending', user.id) }), user.id])
      const totp = new Totp({ secret })
      const label = { issuer, account: user.email }
      // The secret goes to this user once, for apps that cannot scan; it is never logged.
      res.json({ secret, uri: totp.uri(label), qrSvg: totp.qrSvg(label) })
    })

    app.post('/mfa/enable', authenticated, body(['code']), async (req, res) => {
      const user = db.get('SELECT * FROM users WHERE id = ?', [Number(req.auth.sub)])
      if (!user?.totp_pending) return res.status(409).json({ error: 'start with POST /mfa/enroll' })
      const result = await guard.verify({ totp: totpOf(user, 'totp_pending'), code: req.body.code, account: user.id, ip: req.ip })
      if (!result.ok) return res.status(result.reason === 'blocked' ? 429 : 401).json({ error: 'wrong code' })
      const secret = ring.decryptString(user.totp_pending, { context: secretContext('totp_pending', user.id) }).toString()
      db.run('UPDATE users SET totp_secret = ?, totp_pending = NULL WHERE id = ?', [ring.encryptToString(secret, { context: secretContext('totp_secret', user.id) }), user.id])
      // Shown once: each works one time in place of a code.
      res.json({ enabled: true, recoveryCodes: await recovery.reset(user.id) })
    })

    app.post('/auth/mfa', authLimit, body(['mfaToken'], ['code', 'recoveryCode']), async (req, res) => {
      const key = sha256(req.body.mfaToken)
      const entry = pending.get(key)
      if (!entry || entry.expiresAt <= Date.now()) return res.status(401).json({ error: 'log in again' })
      // Each login gets a few tries, whichever factor is used; TotpGuard also limits per account.
      if (++entry.attempts >= MFA_TOKEN_ATTEMPTS) pending.delete(key)
      const user = db.get('SELECT * FROM users WHERE id = ?', [entry.userId])
      if (!user?.totp_secret) return res.status(401).json({ error: 'log in again' })
      let ok = false
      let remaining
      if (typeof req.body.recoveryCode === 'string') {
        const used = await recovery.consume(user.id, req.body.recoveryCode, { ip: req.ip })
        ok = used.ok
        remaining = used.remaining
      } else {
        const result = await guard.verify({ totp: totpOf(user), code: req.body.code, account: user.id, ip: req.ip })
        if (result.reason === 'blocked') {
          res.setHeader('Retry-After', String(Math.ceil(result.retryAfterMs / 1000)))
          return res.status(429).json({ error: 'too many wrong codes; try again later' })
        }
        ok = result.ok
      }
      if (!ok) return res.status(401).json({ error: 'wrong code' })
      pending.delete(key)
      const tokens = issueTokens(user, res)
      res.json(remaining === undefined ? tokens : { ...tokens, recoveryCodesLeft: remaining })
    })
  }

  return { challenge, mount, guard, recovery }
}

module.exports = { createMfa, sqlRecoveryStore, sqlStepStore }
