// rampart/express over real HTTP on 127.0.0.1, with Express 4 and Express 5.
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { createRequire } from 'node:module'
import { after, describe, test } from 'node:test'

import { rateLimit as erlRateLimit } from 'express-rate-limit'
import { LoginGuard, RampartStore, ipKeyGenerator, rateLimit } from 'rampart/express'

const require = createRequire(import.meta.url)
const EXPRESS = { 'express 4': require('express4'), 'express 5': require('express') }
const servers = []
after(() => Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve)))))

async function serve(express, setup) {
  const app = express()
  setup(app)
  const server = app.listen(0, '127.0.0.1')
  await once(server, 'listening')
  servers.push(server)
  const base = `http://127.0.0.1:${server.address().port}`
  return (path = '/', init = {}) => fetch(base + path, init)
}

for (const [label, express] of Object.entries(EXPRESS)) {
  describe(label, () => {
    test('two draft-8 limiters on one route: each adds its policy and state, in order', async () => {
      const get = await serve(express, (app) => {
        app.use(rateLimit({ limit: 100, windowMs: 3_600_000 }))
        app.get('/', rateLimit({ limit: 5, windowMs: 60_000, identifier: 'burst' }), (req, res) => res.end())
      })
      const response = await get()
      assert.equal(response.status, 200)
      assert.equal(response.headers.get('ratelimit-policy'), '"100-in-1h";q=100;w=3600, "burst";q=5;w=60')
      assert.equal(response.headers.get('ratelimit'), '"100-in-1h";r=99;t=36, "burst";r=4;t=12')
    })

    test('draft-8 headers byte for byte, then 429 with Retry-After', async () => {
      const get = await serve(express, (app) => {
        app.use(rateLimit({ limit: 2, windowMs: 60_000 }))
        app.get('/', (req, res) => res.json(req.rateLimit))
      })
      const first = await get()
      assert.equal(first.status, 200)
      assert.equal(first.headers.get('ratelimit-policy'), '"2-in-1min";q=2;w=60')
      assert.equal(first.headers.get('ratelimit'), '"2-in-1min";r=1;t=30')
      assert.equal(first.headers.get('retry-after'), null)
      assert.equal(first.headers.get('x-ratelimit-limit'), null, 'legacy headers are off by default')
      const info = await first.json()
      assert.deepEqual([info.limit, info.used, info.remaining, info.key], [2, 1, 1, '127.0.0.1'])
      assert.equal((await get()).headers.get('ratelimit'), '"2-in-1min";r=0;t=60')
      const denied = await get()
      assert.equal(denied.status, 429)
      assert.equal(await denied.text(), 'Too many requests, please try again later.')
      assert.equal(denied.headers.get('ratelimit'), '"2-in-1min";r=0;t=30')
      assert.equal(denied.headers.get('retry-after'), '30', 'Retry-After equals t: never earlier than the reset')
    })

    test('draft-6, draft-7 and legacy headers', async () => {
      const get = await serve(express, (app) => {
        app.get('/6', rateLimit({ limit: 10, windowMs: 10_000, standardHeaders: 'draft-6', legacyHeaders: true, algorithm: 'fixed-window' }), (req, res) => res.end())
        app.get('/7', rateLimit({ limit: 10, windowMs: 10_000, standardHeaders: 'draft-7', algorithm: 'fixed-window' }), (req, res) => res.end())
        app.get('/none', rateLimit({ limit: 10, windowMs: 10_000, standardHeaders: false }), (req, res) => res.end())
      })
      const six = await get('/6')
      assert.equal(six.headers.get('ratelimit-policy'), '10;w=10')
      assert.equal(six.headers.get('ratelimit-limit'), '10')
      assert.equal(six.headers.get('ratelimit-remaining'), '9')
      assert.equal(six.headers.get('ratelimit-reset'), '10')
      assert.equal(six.headers.get('x-ratelimit-limit'), '10')
      assert.equal(six.headers.get('x-ratelimit-remaining'), '9')
      const reset = Number(six.headers.get('x-ratelimit-reset'))
      assert.ok(Math.abs(reset - (Date.now() / 1000 + 10)) <= 2, 'epoch seconds')
      const seven = await get('/7')
      assert.equal(seven.headers.get('ratelimit-policy'), '10;w=10')
      assert.equal(seven.headers.get('ratelimit'), 'limit=10, remaining=9, reset=10')
      const none = await get('/none')
      assert.equal(none.headers.get('ratelimit'), null)
      assert.equal(none.headers.get('ratelimit-policy'), null)
    })

    test('keyGenerator, skip, handler, statusCode and an object message', async () => {
      const get = await serve(express, (app) => {
        app.use(
          rateLimit({
            limit: 1,
            windowMs: 60_000,
            keyGenerator: (req) => req.get('x-api-key') ?? 'anonymous',
            skip: (req) => req.get('x-internal') === 'yes',
            statusCode: 503,
            message: { error: 'slow down' },
          }),
        )
        app.get('/', (req, res) => res.send('ok'))
      })
      const as = (key, extra = {}) => get('/', { headers: { 'x-api-key': key, ...extra } })
      assert.equal((await as('a')).status, 200)
      const denied = await as('a')
      assert.equal(denied.status, 503)
      assert.deepEqual(await denied.json(), { error: 'slow down' })
      assert.equal((await as('b')).status, 200, 'another key has its own budget')
      assert.equal((await as('a', { 'x-internal': 'yes' })).status, 200, 'skipped requests pass and are not counted')

      const custom = await serve(express, (app) => {
        app.use(rateLimit({ limit: 1, windowMs: 60_000, handler: (req, res) => res.status(418).send(`wait ${res.get('retry-after')}s`) }))
        app.get('/', (req, res) => res.send('ok'))
      })
      await custom()
      const teapot = await custom()
      assert.equal(teapot.status, 418)
      assert.equal(await teapot.text(), 'wait 60s')
    })

    test('skipSuccessfulRequests counts only failures, with no refund race', async () => {
      const get = await serve(express, (app) => {
        app.use('/auth', rateLimit({ limit: 2, windowMs: 60_000, skipSuccessfulRequests: true }))
        app.post('/auth/login', (req, res) => res.status(req.get('x-password') === 'right' ? 200 : 401).end())
      })
      const login = (password) => get('/auth/login', { method: 'POST', headers: { 'x-password': password } })
      for (let i = 0; i < 5; i++) assert.equal((await login('right')).status, 200, 'successes are free')
      assert.equal((await login('wrong')).status, 401)
      assert.equal((await login('wrong')).status, 401)
      assert.equal((await login('wrong')).status, 429, 'the third failure is over the limit')
      assert.equal((await login('right')).status, 429, 'and the key stays blocked, even for a right password')
    })

    test('concurrent requests cannot exceed the limit while outcomes are pending', async () => {
      const get = await serve(express, (app) => {
        app.use(rateLimit({ limit: 3, windowMs: 60_000, skipSuccessfulRequests: true }))
        app.get('/slow', (req, res) => setTimeout(() => res.status(401).end(), 100))
      })
      const statuses = (await Promise.all(Array.from({ length: 8 }, () => get('/slow')))).map((r) => r.status)
      assert.equal(statuses.filter((s) => s === 401).length, 3, statuses.join())
      assert.equal(statuses.filter((s) => s === 429).length, 5)
    })

    test('misconfigured trust proxy is explained once', async () => {
      const warnings = []
      const onWarning = (w) => warnings.push(w.code)
      process.on('warning', onWarning)
      try {
        const behindProxy = await serve(express, (app) => {
          app.use(rateLimit({ limit: 100, windowMs: 60_000 }))
          app.get('/', (req, res) => res.end())
        })
        await behindProxy('/', { headers: { 'x-forwarded-for': '198.51.100.1' } })
        await behindProxy('/', { headers: { 'x-forwarded-for': '198.51.100.2' } })
        const permissive = await serve(express, (app) => {
          app.set('trust proxy', true)
          app.use(rateLimit({ limit: 1, windowMs: 60_000 }))
          app.get('/', (req, res) => res.end())
        })
        // With `trust proxy: true` a client picks its own key by sending X-Forwarded-For.
        assert.equal((await permissive('/', { headers: { 'x-forwarded-for': '198.51.100.7' } })).status, 200)
        assert.equal((await permissive('/', { headers: { 'x-forwarded-for': '198.51.100.8' } })).status, 200)
        await new Promise((resolve) => setImmediate(resolve))
        assert.deepEqual(warnings.sort(), ['RAMPART_PERMISSIVE_TRUST_PROXY', 'RAMPART_UNTRUSTED_FORWARDED_FOR'])
      } finally {
        process.off('warning', onWarning)
      }
    })

    test('RampartStore works as an express-rate-limit store', async () => {
      const get = await serve(express, (app) => {
        app.use(erlRateLimit({ limit: 2, windowMs: 60_000, store: new RampartStore(), standardHeaders: 'draft-7', legacyHeaders: false }))
        app.get('/', (req, res) => res.send('ok'))
      })
      assert.equal((await get()).headers.get('ratelimit'), 'limit=2, remaining=1, reset=60')
      assert.equal((await get()).status, 200)
      const denied = await get()
      assert.equal(denied.status, 429)
      assert.equal(denied.headers.get('retry-after'), '60')
    })
  })
}

test('RampartStore follows the express-rate-limit Store contract', () => {
  const store = new RampartStore()
  store.init({ windowMs: 1000 })
  assert.equal(store.get('a'), undefined)
  assert.equal(store.increment('a').totalHits, 1)
  const second = store.increment('a')
  assert.equal(second.totalHits, 2)
  assert.ok(second.resetTime instanceof Date)
  assert.ok(second.resetTime.getTime() - Date.now() <= 1000)
  store.decrement('a')
  assert.equal(store.get('a').totalHits, 1)
  store.decrement('a')
  store.decrement('a')
  assert.equal(store.get('a'), undefined, 'never below zero')
  store.increment('b')
  store.resetKey('b')
  assert.equal(store.get('b'), undefined)
  store.increment('c')
  store.resetAll()
  assert.equal(store.get('c'), undefined)
  assert.equal(store.localKeys, true)
  assert.equal(new RampartStore({ name: 'shared-erl' }).localKeys, false)
})

test('ipKeyGenerator: IPv4, mapped IPv6, /56 and /64 subnets', () => {
  assert.equal(ipKeyGenerator('192.0.2.1'), '192.0.2.1')
  assert.equal(ipKeyGenerator('::ffff:192.0.2.1'), '192.0.2.1')
  assert.equal(ipKeyGenerator('::ffff:c000:201'), '192.0.2.1')
  assert.equal(ipKeyGenerator('2001:db8:abcd:12ff:1:2:3:4'), '2001:db8:abcd:1200:0:0:0:0/56')
  assert.equal(ipKeyGenerator('2001:db8:abcd:12ff:1:2:3:4', 64), '2001:db8:abcd:12ff:0:0:0:0/64')
  assert.equal(ipKeyGenerator('2001:db8:abcd:1200::9'), ipKeyGenerator('2001:db8:abcd:12ff::1'), 'one /56, one key')
  assert.equal(ipKeyGenerator('2001:db8::1%eth0', false), '2001:db8:0:0:0:0:0:1')
  assert.throws(() => rateLimit({ ipv6Subnet: 16 }), { code: 'ERR_OUT_OF_RANGE' })
})

test('rateLimit rejects bad options when it is created', () => {
  assert.throws(() => rateLimit(5), { code: 'ERR_INVALID_ARG_TYPE' })
  assert.throws(() => rateLimit({ keyGenerator: 'ip' }), { code: 'ERR_INVALID_ARG_TYPE' })
  assert.throws(() => rateLimit({ standardHeaders: 'draft-9' }), { code: 'ERR_INVALID_ARG_VALUE' })
  assert.throws(() => rateLimit({ limit: 0 }), { code: 'ERR_OUT_OF_RANGE' })
  assert.throws(() => rateLimit({ windowMs: -1 }), { code: 'ERR_OUT_OF_RANGE' })
})

test('LoginGuard: reserve before, keep on a wrong password, give back on success', async () => {
  const guard = new LoginGuard({ maxConsecutiveFailures: 3, blockMs: 60_000, maxFailuresPerIpPerDay: 5 })
  const alice = { username: 'alice', ip: '203.0.113.9' }
  for (let i = 0; i < 3; i++) {
    const gate = await guard.begin(alice)
    assert.equal(gate.allowed, true)
    await gate.failure()
  }
  const blocked = await guard.begin(alice)
  assert.equal(blocked.allowed, false)
  assert.ok(blocked.retryAfterMs > 0 && blocked.retryAfterMs <= 60_000)
  assert.equal((await guard.begin({ username: 'ALICE', ip: alice.ip })).allowed, false, 'usernames are case-insensitive')
  const other = await guard.begin({ username: 'alice', ip: '198.51.100.1' })
  assert.equal(other.allowed, true, 'another IP is not blocked')
  await other.success()
  for (const username of ['bob', 'carol']) await (await guard.begin({ username, ip: alice.ip })).failure()
  assert.equal((await guard.begin({ username: 'dave', ip: alice.ip })).allowed, false, '3 + 2 failures from this IP today')
  await assert.rejects(guard.begin({ username: 'x' }), { code: 'ERR_INVALID_ARG_TYPE' })
  assert.throws(() => new LoginGuard(null), { code: 'ERR_INVALID_ARG_TYPE' })
})
