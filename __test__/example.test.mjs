// The example Express API (examples/express-api) end to end over real HTTP on 127.0.0.1: register,
// login, lockout, rate limits, tokens, roles, refresh rotation, encryption at rest in the database
// file, redacted logs, and generic errors in production.
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { after, before, test } from 'node:test'

import { JwtSigner } from 'rampart'

const require = createRequire(import.meta.url)
const { createApp, ISSUER, AUDIENCE } = require('../examples/express-api/app.js')
const { openDatabase } = require('../examples/express-api/db.js')
const { loadSecrets } = require('../examples/express-api/secrets.js')

const PASSWORD = 'PLANTED-password-correct-horse'
const PHONE = '+1 555 0199'
const dataDir = mkdtempSync(join(tmpdir(), 'rampart-example-'))
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

async function start({ production = false, limits } = {}) {
  const { app } = await createApp({ db, secrets, logStream, production, limits })
  const listening = app.listen(0, '127.0.0.1')
  await new Promise((resolve) => listening.once('listening', resolve))
  return { server: listening, base: `http://127.0.0.1:${listening.address().port}` }
}

async function call(method, path, { body, token, url = base } = {}) {
  const headers = { 'content-type': 'application/json' }
  if (token) headers.authorization = `Bearer ${token}`
  const res = await fetch(`${url}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) })
  const text = await res.text()
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined }
}

before(async () => {
  secrets = loadSecrets(dataDir, {})
  db = await openDatabase(join(dataDir, 'app.sqlite'))
  ;({ server, base } = await start({ limits: { authPerWindow: 50, loginFailures: 3 } }))
})

after(() => {
  server?.close()
  db?.close()
  rmSync(dataDir, { recursive: true, force: true })
})

test('register, log in, and read the profile with the access token', async () => {
  const created = await call('POST', '/auth/register', { body: { email: 'Admin@Example.com', password: PASSWORD, phone: PHONE } })
  assert.equal(created.status, 201)
  assert.deepEqual(created.body, { id: 1, email: 'admin@example.com', role: 'admin', phone: PHONE })
  const login = await call('POST', '/auth/login', { body: { email: 'admin@example.com', password: PASSWORD } })
  assert.equal(login.status, 200)
  assert.equal(login.body.tokenType, 'Bearer')
  const me = await call('GET', '/me', { token: login.body.accessToken })
  assert.deepEqual(me.body, created.body)
  assert.equal(me.headers.get('x-content-type-options'), 'nosniff')
  assert.equal(me.headers.get('x-powered-by'), null)
  assert.equal((await call('POST', '/auth/register', { body: { email: 'admin@example.com', password: PASSWORD } })).status, 409)
})

test('validation errors are 400s that name the field', async () => {
  const short = await call('POST', '/auth/register', { body: { email: 'x@example.com', password: 'short' } })
  assert.equal(short.status, 400)
  assert.match(short.body.error, /"password"/)
  assert.equal((await call('POST', '/auth/register', { body: { email: 'nope', password: PASSWORD } })).status, 400)
  const res = await fetch(`${base}/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{bad json' })
  assert.equal(res.status, 400)
})

test('a wrong password is 401, and repeated failures lock the account for this IP', async () => {
  await call('POST', '/auth/register', { body: { email: 'bob@example.com', password: PASSWORD } })
  for (let i = 0; i < 3; i++) {
    const wrong = await call('POST', '/auth/login', { body: { email: 'bob@example.com', password: 'wrong-password-123' } })
    assert.equal(wrong.status, 401)
  }
  const locked = await call('POST', '/auth/login', { body: { email: 'bob@example.com', password: PASSWORD } })
  assert.equal(locked.status, 429)
  assert.ok(Number(locked.headers.get('retry-after')) > 0)
  // Unknown accounts answer exactly like wrong passwords.
  const unknown = await call('POST', '/auth/login', { body: { email: 'nobody@example.com', password: PASSWORD } })
  assert.deepEqual([unknown.status, unknown.body], [401, { error: 'invalid email or password' }])
})

test('the strict /auth rate limit answers 429 with Retry-After and RateLimit headers', async () => {
  const fresh = await start({ limits: { authPerWindow: 2 } })
  try {
    const results = []
    for (let i = 0; i < 3; i++) {
      results.push(await call('POST', '/auth/login', { url: fresh.base, body: { email: `u${i}@example.com`, password: 'wrong-password-123' } }))
    }
    assert.deepEqual(results.map((r) => r.status), [401, 401, 429])
    const limited = results[2]
    assert.ok(Number(limited.headers.get('retry-after')) > 0)
    assert.deepEqual(limited.body, { error: 'too many requests; try again later' })
    assert.match(limited.headers.get('ratelimit-policy'), /"2-in-15min"/)
    assert.match(limited.headers.get('ratelimit'), /r=0/)
  } finally {
    fresh.server.close()
  }
})

test('tokens: missing, malformed, expired and role-denied requests are refused with RFC 6750 headers', async () => {
  const none = await call('GET', '/me')
  assert.equal(none.status, 401)
  assert.equal(none.headers.get('www-authenticate'), 'Bearer realm="api"')
  const bad = await call('GET', '/me', { token: 'not.a.token' })
  assert.equal(bad.status, 401)
  assert.match(bad.headers.get('www-authenticate'), /error="invalid_token"/)
  assert.ok(!bad.headers.get('www-authenticate').includes('not.a.token'))
  const signer = new JwtSigner({ algorithm: 'EdDSA', key: secrets.JWT_PRIVATE_KEY, issuer: ISSUER, audience: AUDIENCE, expiresIn: 60 })
  const expired = signer.sign({ sub: '1', role: 'admin' }, { currentTime: Math.floor(Date.now() / 1000) - 3600 })
  const old = await call('GET', '/me', { token: expired })
  assert.deepEqual([old.status, old.body.code], [401, 'ERR_JWT_EXPIRED'])
  const forged = new JwtSigner({ algorithm: 'HS256', key: Buffer.alloc(32, 1), issuer: ISSUER, audience: AUDIENCE }).sign({ sub: '1', role: 'admin' })
  assert.deepEqual((await call('GET', '/me', { token: forged })).body.code, 'ERR_JWT_ALG_NOT_ALLOWED')
  await call('POST', '/auth/register', { body: { email: 'carol@example.com', password: PASSWORD } })
  const carol = await call('POST', '/auth/login', { body: { email: 'carol@example.com', password: PASSWORD } })
  const denied = await call('GET', '/admin/users', { token: carol.body.accessToken })
  assert.equal(denied.status, 403)
  assert.match(denied.headers.get('www-authenticate'), /insufficient_scope/)
  const admin = await call('POST', '/auth/login', { body: { email: 'admin@example.com', password: PASSWORD } })
  const list = await call('GET', '/admin/users', { token: admin.body.accessToken })
  assert.equal(list.status, 200)
  assert.ok(list.body.every((u) => u.password_hash === undefined && u.email))
})

test('refresh tokens rotate, and a reused one ends every session', async () => {
  const login = await call('POST', '/auth/login', { body: { email: 'admin@example.com', password: PASSWORD } })
  const first = login.body.refreshToken
  const rotated = await call('POST', '/auth/refresh', { body: { token: first } })
  assert.equal(rotated.status, 200)
  assert.notEqual(rotated.body.refreshToken, first)
  assert.equal((await call('GET', '/me', { token: rotated.body.accessToken })).status, 200)
  assert.equal((await call('POST', '/auth/refresh', { body: { token: first } })).status, 401)
  // The reuse revoked the rotated token too.
  assert.equal((await call('POST', '/auth/refresh', { body: { token: rotated.body.refreshToken } })).status, 401)
  assert.equal((await call('POST', '/auth/refresh', { body: { token: 'made-up' } })).status, 401)
})

test('the phone number is ciphertext in the database file and plaintext through the API', async () => {
  const file = readFileSync(join(dataDir, 'app.sqlite'))
  assert.ok(!file.includes(PHONE), 'the phone number is stored in clear')
  assert.ok(file.includes('rmp1.'), 'no rampart envelope in the database')
  const row = db.get("SELECT phone FROM users WHERE email = 'admin@example.com'")
  assert.match(row.phone, /^rmp1\./)
  const login = await call('POST', '/auth/login', { body: { email: 'admin@example.com', password: PASSWORD } })
  const updated = await call('PUT', '/me/phone', { token: login.body.accessToken, body: { phone: '+44 20 7946 0000' } })
  assert.equal(updated.body.phone, '+44 20 7946 0000')
  assert.ok(!readFileSync(join(dataDir, 'app.sqlite')).includes('+44 20 7946 0000'))
})

test('no password or token reaches the logs', async () => {
  const login = await call('POST', '/auth/login', { body: { email: 'admin@example.com', password: PASSWORD } })
  await call('GET', '/me', { token: login.body.accessToken })
  await new Promise((resolve) => setImmediate(resolve))
  const logs = logLines.join('')
  assert.ok(logs.includes('"url":"/me"'), 'requests are logged')
  for (const secret of [PASSWORD, login.body.accessToken, login.body.refreshToken, secrets.DATA_KEY]) {
    assert.ok(!logs.includes(secret), 'a secret reached the logs')
  }
  for (const line of logLines) JSON.parse(line)
})

test('in production, a server error answers generically and logs the detail (redacted)', async () => {
  const prod = await start({ production: true })
  try {
    const login = await call('POST', '/auth/login', { url: prod.base, body: { email: 'admin@example.com', password: PASSWORD } })
    db.close() // every query now throws
    const failed = await call('GET', '/me', { url: prod.base, token: login.body.accessToken })
    assert.equal(failed.status, 500)
    assert.deepEqual(failed.body, { error: 'Internal Server Error' })
    await new Promise((resolve) => setImmediate(resolve))
    assert.ok(logLines.some((line) => line.includes('the database is closed')))
  } finally {
    prod.server.close()
  }
})
