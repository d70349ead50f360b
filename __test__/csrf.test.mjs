// rampart/express csrf(): Fetch Metadata and Origin checks, then the session-bound signed
// double-submit cookie, over real HTTP with Express 5 and Express 4.
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import diagnosticsChannel from 'node:diagnostics_channel'
import { createRequire } from 'node:module'
import { test } from 'node:test'

import { NAMES } from 'rampart/events'
import { csrf } from 'rampart/express'

const require = createRequire(import.meta.url)
const MASTER = randomBytes(32)
const TYPE = { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' }
const VALUE = { name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE' }

const cookieOf = (header, name) => (header ?? '').split(';').map((part) => part.trim().split('=')).find(([key]) => key === name)?.[1]

async function serve(express, options = {}) {
  const app = express()
  app.use(express.json())
  app.use(express.urlencoded({ extended: false }))
  // The "session": a cookie `sid`, as a session middleware or a refresh-token cookie would give.
  const getSessionId = (req) => cookieOf(req.headers.cookie, 'sid')
  app.use(csrf({ secret: MASTER, getSessionId, ...options }))
  app.get('/form', (req, res) => res.json({ token: req.csrfToken() }))
  app.get('/twice', (req, res) => res.json({ same: req.csrfToken() === req.csrfToken() }))
  app.post('/transfer', (req, res) => res.json({ ok: true }))
  app.delete('/transfer', (req, res) => res.json({ ok: true }))
  app.use((error, req, res, _next) => res.status(500).json({ error: error.code }))
  const server = app.listen(0, '127.0.0.1')
  await new Promise((resolve) => server.once('listening', resolve))
  const origin = `http://127.0.0.1:${server.address().port}`
  return { origin, close: () => new Promise((resolve) => server.close(resolve)) }
}

async function request(origin, method, path, { headers = {}, body, form } = {}) {
  const init = { method, headers: { ...headers } }
  if (body !== undefined) {
    init.body = JSON.stringify(body)
    init.headers['content-type'] = 'application/json'
  }
  if (form !== undefined) {
    init.body = new URLSearchParams(form).toString()
    init.headers['content-type'] = 'application/x-www-form-urlencoded'
  }
  const res = await fetch(origin + path, init)
  return { status: res.status, setCookie: res.headers.getSetCookie(), body: await res.json() }
}

/** A session `sid` and its CSRF token (and the cookie the server set). */
async function session(origin, sid = randomBytes(16).toString('hex')) {
  const res = await request(origin, 'GET', '/form', { headers: { cookie: `sid=${sid}` } })
  assert.equal(res.status, 200)
  assert.equal(res.setCookie.length, 1)
  const cookie = res.setCookie[0]
  return { sid, token: res.body.token, cookie, csrfCookie: cookie.split(';')[0] }
}

for (const [name, express] of [['Express 5', require('express')], ['Express 4', require('express4')]]) {
  test(`${name}: token issue, cookie defaults, same-origin requests accepted (header or form field)`, async () => {
    const { origin, close } = await serve(express)
    try {
      const s = await session(origin)
      assert.match(s.token, /^[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]{43}$/)
      assert.equal(s.cookie, `__Host-csrf=${s.token}; Path=/; Secure; HttpOnly; SameSite=Lax`)
      const cookie = `sid=${s.sid}; ${s.csrfCookie}`
      // The cookie's token is reused: no new cookie, the same token.
      const again = await request(origin, 'GET', '/form', { headers: { cookie } })
      assert.equal(again.body.token, s.token)
      assert.equal(again.setCookie.length, 0)
      assert.equal((await request(origin, 'GET', '/twice', { headers: { cookie } })).body.same, true)
      const browser = { cookie, 'sec-fetch-site': 'same-origin', origin }
      assert.equal((await request(origin, 'POST', '/transfer', { headers: { ...browser, 'x-csrf-token': s.token }, body: {} })).status, 200)
      assert.equal((await request(origin, 'POST', '/transfer', { headers: browser, form: { _csrf: s.token, amount: '5' } })).status, 200)
      assert.equal((await request(origin, 'POST', '/transfer', { headers: browser, body: { _csrf: s.token } })).status, 200)
      assert.equal((await request(origin, 'DELETE', '/transfer', { headers: { ...browser, 'x-csrf-token': s.token } })).status, 200)
      // A non-browser client (no Fetch Metadata, no Origin) with a valid token.
      assert.equal((await request(origin, 'POST', '/transfer', { headers: { cookie, 'x-csrf-token': s.token } })).status, 200)
      // Safe methods are never checked.
      assert.equal((await request(origin, 'GET', '/form', { headers: { 'sec-fetch-site': 'cross-site' } })).status, 500, 'no session: csrfToken() throws')
    } finally {
      await close()
    }
  })

  test(`${name}: missing, wrong-session, tampered and cross-site requests refused with stable codes`, async () => {
    const { origin, close } = await serve(express)
    try {
      const s = await session(origin)
      const other = await session(origin)
      const cookie = `sid=${s.sid}; ${s.csrfCookie}`
      const post = (headers, extra = {}) => request(origin, 'POST', '/transfer', { headers, body: {}, ...extra })
      const expect = async (res, code) => {
        assert.equal(res.status, 403)
        assert.deepEqual(res.body, { error: 'forbidden', code })
      }
      await expect(await post({ cookie }), 'ERR_CSRF_TOKEN_MISSING') // the cookie alone is never enough
      await expect(await post({ cookie: `sid=${s.sid}`, 'x-csrf-token': s.token }), 'ERR_CSRF_TOKEN_MISSING') // no cookie
      // Another session's token (with its own cookie, as an attacker with an account would try).
      await expect(await post({ cookie: `sid=${s.sid}; ${other.csrfCookie}`, 'x-csrf-token': other.token }), 'ERR_CSRF_TOKEN_INVALID')
      // The header and the cookie must match.
      await expect(await post({ cookie: `sid=${s.sid}; ${other.csrfCookie}`, 'x-csrf-token': s.token }), 'ERR_CSRF_TOKEN_INVALID')
      // Tampered: one character of the MAC or of the random part changed (in both places).
      for (const i of [0, 50]) {
        const flipped = s.token.slice(0, i) + (s.token[i] === 'A' ? 'B' : 'A') + s.token.slice(i + 1)
        await expect(await post({ cookie: `sid=${s.sid}; __Host-csrf=${flipped}`, 'x-csrf-token': flipped }), 'ERR_CSRF_TOKEN_INVALID')
      }
      for (const junk of ['', 'x', `${s.token}.x`, 'a'.repeat(5000)]) {
        await expect(await post({ cookie: `sid=${s.sid}; __Host-csrf=${junk}`, 'x-csrf-token': junk }), 'ERR_CSRF_TOKEN_INVALID')
      }
      await expect(await post({ cookie: s.csrfCookie, 'x-csrf-token': s.token }), 'ERR_CSRF_NO_SESSION')
      // Layer 1 refuses before the token is even looked at.
      const valid = { cookie, 'x-csrf-token': s.token }
      await expect(await post({ ...valid, 'sec-fetch-site': 'cross-site', origin: 'https://evil.example' }), 'ERR_CSRF_CROSS_SITE')
      await expect(await post({ ...valid, 'sec-fetch-site': 'cross-site' }), 'ERR_CSRF_CROSS_SITE')
      await expect(await post({ ...valid, 'sec-fetch-site': 'same-site', origin: 'http://sub.127.0.0.1.nip.example' }), 'ERR_CSRF_CROSS_SITE')
      await expect(await post({ ...valid, origin: 'https://evil.example' }), 'ERR_CSRF_ORIGIN')
      await expect(await post({ ...valid, origin: 'null' }), 'ERR_CSRF_ORIGIN')
      await expect(await post({ ...valid, 'sec-fetch-site': 'same-origin', origin: origin.replace('http:', 'https:') }), 'ERR_CSRF_ORIGIN')
      await expect(await request(origin, 'POST', '/transfer', { headers: { ...valid, 'sec-fetch-site': 'cross-site' }, form: { _csrf: s.token } }), 'ERR_CSRF_CROSS_SITE')
    } finally {
      await close()
    }
  })
}

test('allowed origins, same-site siblings on the list, key rotation', async () => {
  const express = require('express')
  const oldMaster = randomBytes(32)
  const before = await serve(express, { secret: oldMaster })
  const s = await session(before.origin)
  await before.close()
  const after = await serve(express, { secret: [MASTER, oldMaster], origins: ['https://app.example.com'] })
  try {
    const headers = { cookie: `sid=${s.sid}; ${s.csrfCookie}`, 'x-csrf-token': s.token }
    const ok = await request(after.origin, 'POST', '/transfer', { headers: { ...headers, 'sec-fetch-site': 'same-site', origin: 'https://app.example.com' }, body: {} })
    assert.equal(ok.status, 200, 'a token signed with the previous master secret still verifies')
    const own = await request(after.origin, 'POST', '/transfer', { headers: { ...headers, origin: after.origin }, body: {} })
    assert.equal(own.body.code, 'ERR_CSRF_ORIGIN', 'with origins set, only the listed ones are allowed')
    // New tokens are signed with the newest key: a server with only the old key refuses them.
    const fresh = await session(after.origin)
    const oldOnly = await serve(express, { secret: oldMaster })
    try {
      const res = await request(oldOnly.origin, 'POST', '/transfer', { headers: { cookie: `sid=${fresh.sid}; ${fresh.csrfCookie}`, 'x-csrf-token': fresh.token }, body: {} })
      assert.equal(res.body.code, 'ERR_CSRF_TOKEN_INVALID')
    } finally {
      await oldOnly.close()
    }
  } finally {
    await after.close()
  }
})

test('rampart:csrf.rejected events carry the code, IP, method and path, never a token or cookie', async () => {
  const { origin, close } = await serve(require('express'))
  const seen = []
  const listener = (message) => seen.push(message)
  diagnosticsChannel.subscribe(NAMES.csrfRejected, listener)
  try {
    const s = await session(origin)
    await request(origin, 'POST', '/transfer?token=secret-in-query', { headers: { cookie: `sid=${s.sid}; ${s.csrfCookie}`, 'x-csrf-token': s.token, 'sec-fetch-site': 'cross-site' }, body: {} })
    assert.equal(seen.length, 1)
    const { time, ...rest } = seen[0]
    assert.ok(Math.abs(time - Date.now()) < 60_000)
    assert.deepEqual(rest, { event: 'csrf.rejected', code: 'ERR_CSRF_CROSS_SITE', ip: '127.0.0.1', method: 'POST', path: '/transfer', site: 'cross-site' })
    const text = JSON.stringify(seen)
    assert.ok(!text.includes(s.token) && !text.includes(s.sid) && !text.includes('secret-in-query'))
  } finally {
    diagnosticsChannel.unsubscribe(NAMES.csrfRejected, listener)
    await close()
  }
})

test('configuration errors are coded', () => {
  const getSessionId = () => 's'
  assert.throws(() => csrf(), TYPE)
  assert.throws(() => csrf({ getSessionId }), TYPE)
  assert.throws(() => csrf({ secret: randomBytes(16), getSessionId }), { code: 'ERR_OUT_OF_RANGE' })
  assert.throws(() => csrf({ secret: MASTER }), TYPE)
  assert.throws(() => csrf({ secret: MASTER, getSessionId, cookie: { secure: false } }), VALUE)
  assert.throws(() => csrf({ secret: MASTER, getSessionId, cookie: { domain: 'example.com' } }), VALUE)
  assert.throws(() => csrf({ secret: MASTER, getSessionId, cookie: { sameSite: 'lax' } }), VALUE)
  assert.throws(() => csrf({ secret: MASTER, getSessionId, cookieName: 'a b' }), VALUE)
  assert.throws(() => csrf({ secret: MASTER, getSessionId, origins: ['not an origin'] }), VALUE)
  assert.throws(() => csrf({ secret: [], getSessionId }), TYPE)
  // Without the prefix, a non-Secure cookie is the user's explicit choice (plain-HTTP development).
  assert.equal(typeof csrf({ secret: MASTER, getSessionId, cookieName: 'csrf', cookie: { secure: false } }), 'function')
})
