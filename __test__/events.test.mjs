// rampart/events: every channel seen by a subscriber, payloads without secrets, nothing built
// when nobody listens; the Express middleware publish rate-limit denials and JWT rejections.
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import diagnosticsChannel from 'node:diagnostics_channel'
import { test } from 'node:test'

import express from 'express'
import { JwtSigner, JwtVerifier } from 'rampart'
import * as events from 'rampart/events'
import { rateLimit, requireJwt } from 'rampart/express'

const { NAMES } = events

async function capture(names, fn) {
  const seen = []
  const listeners = names.map((name) => [name, (message, channelName) => seen.push({ channel: channelName, ...message })])
  for (const [name, listener] of listeners) diagnosticsChannel.subscribe(name, listener)
  try {
    await fn()
  } finally {
    for (const [name, listener] of listeners) diagnosticsChannel.unsubscribe(name, listener)
  }
  return seen.map(({ time, ...rest }) => {
    assert.equal(typeof time, 'number')
    return rest
  })
}

test('the channel names are stable and every helper publishes its documented shape', async () => {
  assert.deepEqual(Object.values(NAMES), [
    'rampart:login.blocked',
    'rampart:ratelimit.denied',
    'rampart:jwt.rejected',
    'rampart:mfa.failed',
    'rampart:recovery-code.used',
    'rampart:csrf.rejected',
    'rampart:store.outage',
  ])
  const seen = await capture(Object.values(NAMES), () => {
    events.loginBlocked({ account: 7, ip: '192.0.2.1', retryAfterMs: 1000, password: 'hunter2' })
    events.rateLimitDenied({ key: '192.0.2.1', ip: '192.0.2.1', method: 'POST', path: '/auth/login', limit: 5, retryAfterMs: 250 })
    events.jwtRejected({ code: 'ERR_JWT_EXPIRED', ip: '192.0.2.1', method: 'GET', path: '/me' })
    events.mfaFailed({ account: 'u1', ip: '192.0.2.1', reason: 'invalid' })
    events.recoveryCodeUsed({ account: 'u1', remaining: 9 })
    events.csrfRejected({ code: 'ERR_CSRF_ORIGIN', ip: '192.0.2.1', method: 'POST', path: '/x' })
    events.storeOutage({ store: 'ratelimit', operation: 'hit', failOpen: true, error: Object.assign(new Error('AUTH hunter2 failed'), { code: 'NOAUTH' }) })
  })
  assert.deepEqual(seen, [
    { channel: NAMES.loginBlocked, event: 'login.blocked', account: '7', ip: '192.0.2.1', retryAfterMs: 1000 },
    { channel: NAMES.rateLimitDenied, event: 'ratelimit.denied', key: '192.0.2.1', ip: '192.0.2.1', method: 'POST', path: '/auth/login', limit: 5, retryAfterMs: 250 },
    { channel: NAMES.jwtRejected, event: 'jwt.rejected', code: 'ERR_JWT_EXPIRED', ip: '192.0.2.1', method: 'GET', path: '/me' },
    { channel: NAMES.mfaFailed, event: 'mfa.failed', account: 'u1', ip: '192.0.2.1', method: 'totp', reason: 'invalid' },
    { channel: NAMES.recoveryCodeUsed, event: 'recovery-code.used', account: 'u1', remaining: 9 },
    { channel: NAMES.csrfRejected, event: 'csrf.rejected', code: 'ERR_CSRF_ORIGIN', ip: '192.0.2.1', method: 'POST', path: '/x' },
    { channel: NAMES.storeOutage, event: 'store.outage', store: 'ratelimit', operation: 'hit', failOpen: true, error: 'NOAUTH' },
  ])
  assert.ok(!JSON.stringify(seen).includes('hunter2'), 'unknown fields and error messages are never copied')
})

test('nothing is built when nobody subscribes', () => {
  let touched = 0
  const fields = new Proxy({}, { get: () => ++touched })
  for (const name of Object.keys(NAMES)) {
    assert.equal(events.channels[name].hasSubscribers, false)
    events[name](fields)
  }
  assert.equal(touched, 0)
  // Payloads are frozen, so one subscriber cannot change what the next one sees.
  const listener = (message) => assert.ok(Object.isFrozen(message))
  diagnosticsChannel.subscribe(NAMES.mfaFailed, listener)
  events.mfaFailed({ account: 'a' })
  diagnosticsChannel.unsubscribe(NAMES.mfaFailed, listener)
  assert.equal(events.pathOf({ originalUrl: '/a/b?token=x' }), '/a/b')
})

test('rateLimit and requireJwt publish denials and rejections over HTTP, without tokens', async () => {
  const key = randomBytes(32)
  const signer = new JwtSigner({ algorithm: 'HS256', key, expiresIn: 60 })
  const verifier = new JwtVerifier({ algorithms: ['HS256'], key })
  const app = express()
  app.get('/limited', rateLimit({ limit: 1, windowMs: 60_000 }), (_req, res) => res.json({ ok: true }))
  app.get('/private', requireJwt({ verifier }), (_req, res) => res.json({ ok: true }))
  const server = app.listen(0, '127.0.0.1')
  await new Promise((resolve) => server.once('listening', resolve))
  const base = `http://127.0.0.1:${server.address().port}`
  const forged = new JwtSigner({ algorithm: 'HS256', key: randomBytes(32) }).sign({ sub: '1' })
  try {
    const seen = await capture([NAMES.rateLimitDenied, NAMES.jwtRejected], async () => {
      assert.equal((await fetch(`${base}/limited`)).status, 200)
      assert.equal((await fetch(`${base}/limited?q=1`)).status, 429)
      assert.equal((await fetch(`${base}/private`)).status, 401)
      assert.equal((await fetch(`${base}/private`, { headers: { authorization: `Bearer ${forged}` } })).status, 401)
      assert.equal((await fetch(`${base}/private`, { headers: { authorization: 'Basic abc' } })).status, 400)
      assert.equal((await fetch(`${base}/private`, { headers: { authorization: `Bearer ${signer.sign({ sub: '1' })}` } })).status, 200)
    })
    assert.equal(seen.length, 4)
    const [denied, ...rejected] = seen
    assert.equal(denied.channel, NAMES.rateLimitDenied)
    assert.equal(denied.path, '/limited')
    assert.equal(denied.ip, '127.0.0.1')
    assert.equal(denied.limit, 1)
    assert.ok(denied.retryAfterMs > 0)
    assert.deepEqual(
      rejected.map((e) => [e.channel, e.code, e.path]),
      [
        [NAMES.jwtRejected, 'ERR_JWT_MISSING', '/private'],
        [NAMES.jwtRejected, 'ERR_JWT_SIGNATURE_INVALID', '/private'],
        [NAMES.jwtRejected, 'ERR_JWT_MALFORMED', '/private'],
      ],
    )
    assert.ok(!JSON.stringify(seen).includes(forged.split('.')[2]))
  } finally {
    server.close()
  }
})

test('RedisRateLimiter reports an outage once on rampart:store.outage, with the error code only', async () => {
  const { RedisRateLimiter } = await import('rampart')
  // A client whose calls fail at once (an unreachable Redis); the message carries a "secret" to
  // show it never reaches the event.
  const down = () => Promise.reject(Object.assign(new Error('AUTH s3cret-password failed'), { code: 'ECONNREFUSED' }))
  const client = { status: 'ready', evalsha: down, eval: down, script: down, on() {}, once() {} }
  const limiter = new RedisRateLimiter({ client, limit: 5, windowMs: 1000, onStoreError: 'fail-closed', timeoutMs: 50 })
  limiter.on('outage', () => {})
  const seen = await capture(['rampart:store.outage'], async () => {
    for (let i = 0; i < 5; i++) assert.equal((await limiter.hit(`k${i}`)).allowed, false)
  })
  assert.equal(seen.length, 1, 'once per outage, not per call')
  assert.equal(seen[0].store, 'ratelimit')
  assert.equal(seen[0].operation, 'redis')
  assert.equal(seen[0].failOpen, false)
  assert.match(seen[0].error, /^ERR_RAMPART_REDIS/)
  assert.doesNotMatch(JSON.stringify(seen), /s3cret/)
})
