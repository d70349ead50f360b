// The example API's second factor, recovery codes, cookie refresh with CSRF, and security events,
// end to end over real HTTP on 127.0.0.1. Codes are computed with otpauth (an independent
// implementation), as an authenticator app would.
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { after, before, test } from 'node:test'

import * as OTPAuth from 'otpauth'
import { Keyring } from 'rampart'

const require = createRequire(import.meta.url)
const { createApp } = require('../examples/express-api/app.js')
const { openDatabase } = require('../examples/express-api/db.js')
const { loadSecrets } = require('../examples/express-api/secrets.js')

const PASSWORD = 'PLANTED-password-mfa-horse'
const dataDir = mkdtempSync(join(tmpdir(), 'rampart-example-mfa-'))
const logLines = []
const logStream = new Writable({
  write(chunk, _encoding, done) {
    logLines.push(chunk.toString())
    done()
  },
})

let base
let server
let db
let secrets
let closeApp
const planted = [] // secrets, codes and tokens that must never reach the logs

async function call(method, path, { body, token, headers = {}, url = base } = {}) {
  const all = { 'content-type': 'application/json', ...headers }
  if (token) all.authorization = `Bearer ${token}`
  const res = await fetch(`${url}${path}`, { method, headers: all, body: body === undefined ? undefined : JSON.stringify(body) })
  const text = await res.text()
  return { status: res.status, headers: res.headers, cookies: res.headers.getSetCookie(), body: text ? JSON.parse(text) : undefined }
}

const cookieValue = (cookies, name) => cookies.map((c) => c.split(';')[0]).find((c) => c.startsWith(`${name}=`))?.slice(name.length + 1)
const codeAt = (secret, seconds) => new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(secret) }).generate({ timestamp: seconds * 1000 })
const nowSeconds = () => Math.floor(Date.now() / 1000)

before(async () => {
  secrets = loadSecrets(dataDir, {})
  db = await openDatabase(join(dataDir, 'app.sqlite'))
  const created = await createApp({ db, secrets, logStream, limits: { authPerWindow: 200, loginFailures: 50, mfaFailures: 3 } })
  closeApp = created.close
  server = created.app.listen(0, '127.0.0.1')
  await new Promise((resolve) => server.once('listening', resolve))
  base = `http://127.0.0.1:${server.address().port}`
})

after(() => {
  server?.close()
  closeApp?.()
  db?.close()
  rmSync(dataDir, { recursive: true, force: true })
})

async function registerAndLogin(email) {
  assert.equal((await call('POST', '/auth/register', { body: { email, password: PASSWORD } })).status, 201)
  const login = await call('POST', '/auth/login', { body: { email, password: PASSWORD } })
  assert.equal(login.status, 200)
  return login.body.accessToken
}

/** Enrols `email`; returns the TOTP secret, recovery codes and the time step used. */
async function enrol(email) {
  const token = await registerAndLogin(email)
  const enrolment = await call('POST', '/mfa/enroll', { token })
  assert.equal(enrolment.status, 200)
  const { secret } = enrolment.body
  const time = nowSeconds()
  const enabled = await call('POST', '/mfa/enable', { token, body: { code: codeAt(secret, time) } })
  assert.equal(enabled.status, 200)
  planted.push(secret, ...enabled.body.recoveryCodes)
  return { secret, recoveryCodes: enabled.body.recoveryCodes, time, token, enrolment: enrolment.body }
}

test('enrolment: otpauth URI and QR SVG, secret encrypted at rest and bound to the user id, confirmed by a code', async () => {
  const token = await registerAndLogin('dana@example.com')
  const enrolment = await call('POST', '/mfa/enroll', { token })
  assert.equal(enrolment.status, 200)
  const { secret, uri, qrSvg } = enrolment.body
  planted.push(secret)
  assert.match(secret, /^[A-Z2-7]{32}$/)
  const parsed = OTPAuth.URI.parse(uri)
  assert.deepEqual([parsed.issuer, parsed.label, parsed.secret.base32], ['rampart-example', 'dana@example.com', secret])
  assert.match(qrSvg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg".*<\/svg>$/)
  const row = db.get("SELECT id, totp_pending, totp_secret FROM users WHERE email = 'dana@example.com'")
  assert.match(row.totp_pending, /^rmp1\./)
  assert.equal(row.totp_secret, null, 'not on until a code confirms it')
  // A wrong code does not turn it on.
  let wrong = '000000'
  while (wrong === codeAt(secret, nowSeconds()) || wrong === codeAt(secret, nowSeconds() - 30) || wrong === codeAt(secret, nowSeconds() + 30)) wrong = `${Number(wrong) + 1}`.padStart(6, '0')
  assert.equal((await call('POST', '/mfa/enable', { token, body: { code: wrong } })).status, 401)
  const enabled = await call('POST', '/mfa/enable', { token, body: { code: codeAt(secret, nowSeconds()) } })
  assert.equal(enabled.status, 200)
  assert.equal(enabled.body.recoveryCodes.length, 10)
  planted.push(...enabled.body.recoveryCodes)
  const after = db.get('SELECT totp_pending, totp_secret FROM users WHERE id = ?', [row.id])
  assert.equal(after.totp_pending, null)
  assert.match(after.totp_secret, /^rmp1\./)
  // Bound to the user id: the same ciphertext under another user's context does not decrypt.
  const ring = new Keyring({ keys: [{ id: 'data-1', key: secrets.DATA_KEY }], primary: 'data-1' })
  assert.equal(ring.decryptString(after.totp_secret, { context: `users.totp_secret:${row.id}` }).toString(), secret)
  assert.throws(() => ring.decryptString(after.totp_secret, { context: `users.totp_secret:${row.id + 1}` }), { code: 'ERR_DECRYPT' })
  // Neither the secret nor the recovery codes are in the database file.
  const file = readFileSync(join(dataDir, 'app.sqlite'))
  assert.ok(!file.includes(secret))
  for (const code of enabled.body.recoveryCodes) assert.ok(!file.includes(code) && !file.includes(code.replace(/-/g, '')))
  assert.equal(db.get('SELECT COUNT(*) AS n FROM recovery_codes WHERE user_id = ?', [row.id]).n, 10)
  assert.equal((await call('POST', '/mfa/enroll', { token })).status, 409)
})

test('login asks for the code; a code is accepted once, the next step works, replays are refused', async () => {
  const { secret, time } = await enrol('erin@example.com')
  const login = await call('POST', '/auth/login', { body: { email: 'erin@example.com', password: PASSWORD } })
  assert.equal(login.status, 200)
  assert.equal(login.body.mfaRequired, true)
  assert.equal(login.body.accessToken, undefined, 'no tokens before the second factor')
  assert.deepEqual(login.cookies, [], 'no refresh cookie either')
  const { mfaToken } = login.body
  // The code that confirmed enrolment was spent: refused (RFC 6238 5.2).
  assert.equal((await call('POST', '/auth/mfa', { body: { mfaToken, code: codeAt(secret, time) } })).status, 401)
  // The next step's code (what the app shows now or in a few seconds) is accepted.
  const next = codeAt(secret, time + 30)
  const ok = await call('POST', '/auth/mfa', { body: { mfaToken, code: next } })
  assert.equal(ok.status, 200)
  assert.equal(ok.body.tokenType, 'Bearer')
  assert.equal((await call('GET', '/me', { token: ok.body.accessToken })).status, 200)
  // The mfaToken was spent, and the same code on a new login is a replay.
  assert.equal((await call('POST', '/auth/mfa', { body: { mfaToken, code: next } })).status, 401)
  const again = await call('POST', '/auth/login', { body: { email: 'erin@example.com', password: PASSWORD } })
  assert.equal((await call('POST', '/auth/mfa', { body: { mfaToken: again.body.mfaToken, code: next } })).status, 401)
  assert.equal((await call('POST', '/auth/mfa', { body: { mfaToken: 'made-up', code: next } })).status, 401)
})

test('a spent code stays spent across a restart: the last step is in the database, updated atomically', async () => {
  const { secret, time } = await enrol('kim@example.com')
  const code = codeAt(secret, time + 30)
  const first = await call('POST', '/auth/login', { body: { email: 'kim@example.com', password: PASSWORD } })
  assert.equal((await call('POST', '/auth/mfa', { body: { mfaToken: first.body.mfaToken, code } })).status, 200)
  const row = db.get("SELECT totp_last_step FROM users WHERE email = 'kim@example.com'")
  assert.equal(row.totp_last_step, Math.floor((time + 30) / 30))
  // A second app instance on the same database (a restart, or another process) refuses the code.
  const other = await createApp({ db, secrets, logStream, limits: { authPerWindow: 200, loginFailures: 50 } })
  const listening = other.app.listen(0, '127.0.0.1')
  await new Promise((resolve) => listening.once('listening', resolve))
  try {
    const url = `http://127.0.0.1:${listening.address().port}`
    const login = await call('POST', '/auth/login', { url, body: { email: 'kim@example.com', password: PASSWORD } })
    assert.equal((await call('POST', '/auth/mfa', { url, body: { mfaToken: login.body.mfaToken, code } })).status, 401)
  } finally {
    listening.close()
    other.close()
  }
})

test('wrong codes are limited per account (429 with Retry-After); malformed codes count as wrong', async () => {
  const { secret } = await enrol('finn@example.com')
  const login = await call('POST', '/auth/login', { body: { email: 'finn@example.com', password: PASSWORD } })
  const { mfaToken } = login.body
  const bad = ['12345', 'abcdef', '1234567', '   ']
  const statuses = []
  for (const code of bad) statuses.push((await call('POST', '/auth/mfa', { body: { mfaToken, code } })).status)
  assert.deepEqual(statuses, [401, 401, 401, 429])
  // Still blocked with the right code, on a fresh login too.
  const fresh = await call('POST', '/auth/login', { body: { email: 'finn@example.com', password: PASSWORD } })
  const blocked = await call('POST', '/auth/mfa', { body: { mfaToken: fresh.body.mfaToken, code: codeAt(secret, nowSeconds() + 30) } })
  assert.equal(blocked.status, 429)
  assert.ok(Number(blocked.headers.get('retry-after')) > 0)
  assert.equal((await call('POST', '/auth/mfa', { body: { mfaToken, code: 123456 } })).status, 400, 'a JSON number is refused by validation')
})

test('recovery codes: each works once, also for 20 concurrent logins', async () => {
  const { recoveryCodes } = await enrol('gus@example.com')
  const login = await call('POST', '/auth/login', { body: { email: 'gus@example.com', password: PASSWORD } })
  const used = await call('POST', '/auth/mfa', { body: { mfaToken: login.body.mfaToken, recoveryCode: recoveryCodes[0].toUpperCase() } })
  assert.equal(used.status, 200)
  assert.equal(used.body.recoveryCodesLeft, 9)
  const again = await call('POST', '/auth/login', { body: { email: 'gus@example.com', password: PASSWORD } })
  assert.equal((await call('POST', '/auth/mfa', { body: { mfaToken: again.body.mfaToken, recoveryCode: recoveryCodes[0] } })).status, 401)
  // 20 logins, then the same code on all of them at once.
  const tokens = []
  for (let i = 0; i < 20; i++) tokens.push((await call('POST', '/auth/login', { body: { email: 'gus@example.com', password: PASSWORD } })).body.mfaToken)
  const results = await Promise.all(tokens.map((mfaToken) => call('POST', '/auth/mfa', { body: { mfaToken, recoveryCode: recoveryCodes[1] } })))
  assert.equal(results.filter((r) => r.status === 200).length, 1)
  assert.equal(results.filter((r) => r.status === 401).length, 19)
  assert.equal(db.get("SELECT COUNT(*) AS n FROM recovery_codes r JOIN users u ON u.id = r.user_id WHERE u.email = 'gus@example.com'").n, 8)
})

test('cookie refresh: HttpOnly __Host- cookie, CSRF token bound to the refresh session, cross-site refused', async () => {
  await registerAndLogin('hana@example.com')
  const login = await call('POST', '/auth/login', { body: { email: 'hana@example.com', password: PASSWORD } })
  const refreshCookie = login.cookies.find((c) => c.startsWith('__Host-refresh='))
  assert.match(refreshCookie, /; Path=\/; Max-Age=\d+; Secure; HttpOnly; SameSite=Strict$/)
  const refresh = cookieValue(login.cookies, '__Host-refresh')
  assert.equal(refresh, login.body.refreshToken)
  planted.push(refresh)
  const csrfRes = await call('GET', '/auth/csrf', { headers: { cookie: `__Host-refresh=${refresh}` } })
  assert.equal(csrfRes.status, 200)
  const csrfToken = csrfRes.body.csrfToken
  const csrfCookie = cookieValue(csrfRes.cookies, '__Host-csrf')
  assert.equal(csrfCookie, csrfToken)
  planted.push(csrfToken)
  const cookie = `__Host-refresh=${refresh}; __Host-csrf=${csrfCookie}`
  const browser = { cookie, origin: base, 'sec-fetch-site': 'same-origin' }
  // Refused: no token (the cookies alone), a cross-site request, a foreign origin.
  const expect403 = async (headers, code) => {
    const res = await call('POST', '/auth/refresh-cookie', { headers })
    assert.deepEqual([res.status, res.body], [403, { error: 'forbidden', code }])
  }
  await expect403(browser, 'ERR_CSRF_TOKEN_MISSING')
  await expect403({ ...browser, 'x-csrf-token': csrfToken, 'sec-fetch-site': 'cross-site', origin: 'https://evil.example' }, 'ERR_CSRF_CROSS_SITE')
  await expect403({ cookie, 'x-csrf-token': csrfToken, origin: 'https://evil.example' }, 'ERR_CSRF_ORIGIN')
  const rotated = await call('POST', '/auth/refresh-cookie', { headers: { ...browser, 'x-csrf-token': csrfToken } })
  assert.equal(rotated.status, 200)
  assert.equal(rotated.body.refreshToken, undefined, 'the refresh token stays in its cookie')
  assert.equal((await call('GET', '/me', { token: rotated.body.accessToken })).status, 200)
  const newRefresh = cookieValue(rotated.cookies, '__Host-refresh')
  const newCsrf = cookieValue(rotated.cookies, '__Host-csrf')
  assert.ok(newRefresh && newRefresh !== refresh)
  assert.equal(rotated.body.csrfToken, newCsrf)
  planted.push(newRefresh, newCsrf)
  // The old CSRF token belongs to the spent session: refused with the new cookie.
  await expect403({ cookie: `__Host-refresh=${newRefresh}; __Host-csrf=${csrfCookie}`, 'x-csrf-token': csrfToken }, 'ERR_CSRF_TOKEN_INVALID')
  const second = await call('POST', '/auth/refresh-cookie', { headers: { cookie: `__Host-refresh=${newRefresh}; __Host-csrf=${newCsrf}`, 'x-csrf-token': newCsrf, origin: base } })
  assert.equal(second.status, 200)
  assert.equal((await call('GET', '/auth/csrf')).status, 401)
})

test('security events reach the pino log, with ids and IPs only', async () => {
  await new Promise((resolve) => setImmediate(resolve))
  const events = logLines.map((line) => JSON.parse(line)).filter((entry) => entry.securityEvent)
  const kinds = new Set(events.map((entry) => entry.securityEvent.event))
  for (const kind of ['mfa.failed', 'recovery-code.used', 'csrf.rejected']) assert.ok(kinds.has(kind), `${kind} logged`)
  const replay = events.find((entry) => entry.securityEvent.event === 'mfa.failed' && entry.securityEvent.reason === 'replayed')
  assert.equal(replay.securityEvent.ip, '127.0.0.1')
  assert.match(replay.securityEvent.account, /^\d+$/)
  const logs = logLines.join('')
  for (const secret of [...planted, PASSWORD, secrets.MASTER_SECRET]) assert.ok(!logs.includes(secret), 'a secret, code or token reached the logs')
})
