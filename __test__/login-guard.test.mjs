// LoginGuard on the in-memory store and on an async store (the same table behind promises, as any
// remote store looks to the guard): reservations, client grouping, the three limits, fail-closed.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'

import Redis from 'ioredis'
import { RateLimiter, RedisRateLimiter } from 'rampart'
import { LoginGuard } from 'rampart/express'

import { startRedis } from './helpers/redis-server.mjs'

/** Any async store: the native limiter behind a promise that settles on a later turn. */
const asyncLimiter = (options) => {
  const limiter = new RateLimiter(options)
  const later = (fn) => new Promise((resolve) => setImmediate(() => resolve(fn())))
  return {
    hit: (key) => later(() => limiter.hit(key)),
    refund: (key) => later(() => limiter.refund(key)),
    reset: (key) => later(() => limiter.reset(key)),
  }
}

// A real redis-server (started here; a missing one fails the suite), shared by the guards of
// the Redis variant, each under its own key prefix.
let server
let redis
let guards = 0
before(async () => {
  server = await startRedis()
  redis = new Redis({ port: server.port, host: server.host, lazyConnect: true })
  await redis.connect()
})
after(async () => {
  redis.disconnect()
  await server.stop()
})
const redisLimiter = () => {
  const guard = ++guards
  return ({ purpose, limit, windowMs }) =>
    new RedisRateLimiter({ client: redis, limit, windowMs, prefix: `lg${process.pid}-${guard}:${purpose}:`, onStoreError: 'fail-closed' })
}

const STORES = {
  memory: () => ({}),
  async: () => ({ createLimiter: asyncLimiter }),
  redis: () => ({ createLimiter: redisLimiter() }),
}

/** Runs `attempts` logins with wrong passwords, each held for `checkMs` like a password check. */
async function wrongPasswords(guard, attempts, checkMs = 0) {
  let passed = 0
  await Promise.all(
    attempts.map(async (attempt) => {
      const gate = await guard.begin(attempt)
      if (!gate.allowed) return
      passed++
      await new Promise((resolve) => setTimeout(resolve, checkMs))
      await gate.failure()
    }),
  )
  return passed
}

for (const [store, options] of Object.entries(STORES)) {
  test(`[${store}] 20 concurrent wrong passwords on one account: at most the limit pass`, async () => {
    const guard = new LoginGuard({ ...options(), maxConsecutiveFailures: 5 })
    const attempts = Array.from({ length: 20 }, () => ({ username: 'admin', ip: '192.0.2.10' }))
    assert.equal(await wrongPasswords(guard, attempts, 20), 5)
    assert.equal((await guard.begin({ username: 'admin', ip: '192.0.2.10' })).allowed, false)
  })

  test(`[${store}] IPv6 rotation within one /64 and one /56 counts as one client`, async () => {
    const guard = new LoginGuard({ ...options(), maxConsecutiveFailures: 5 })
    const in64 = Array.from({ length: 200 }, (_, i) => ({ username: 'root', ip: `2001:db8:1:2::${(i + 1).toString(16)}` }))
    assert.equal(await wrongPasswords(guard, in64), 5)
    const in56 = Array.from({ length: 200 }, (_, i) => ({ username: 'root2', ip: `2001:db8:5:${(i & 255).toString(16)}::${i + 1}` }))
    assert.equal(await wrongPasswords(guard, in56), 5)
    // Another /56 is another client.
    assert.equal((await guard.begin({ username: 'root', ip: '2001:db8:2::1' })).allowed, true)
  })

  test(`[${store}] a per-account limit holds across 100 addresses`, async () => {
    const guard = new LoginGuard({ ...options(), maxConsecutiveFailures: 5, maxFailuresPerAccountPerDay: 10 })
    const attempts = Array.from({ length: 100 }, (_, i) => ({ username: 'victim', ip: `198.51.100.${i + 1}` }))
    assert.equal(await wrongPasswords(guard, attempts), 10)
    const gate = await guard.begin({ username: 'victim', ip: '203.0.113.1' })
    assert.equal(gate.allowed, false, 'the account is limited for every client')
    assert.equal(gate.reason, 'limited')
    assert.equal((await guard.begin({ username: 'someone-else', ip: '198.51.100.1' })).allowed, true)
  })

  test(`[${store}] success gives the reservation back and clears the account+client record`, async () => {
    const guard = new LoginGuard({ ...options(), maxConsecutiveFailures: 3, maxFailuresPerAccountPerDay: 4, maxFailuresPerIpPerDay: 4 })
    const alice = { username: 'alice', ip: '203.0.113.5' }
    await wrongPasswords(guard, [alice, alice])
    for (let i = 0; i < 10; i++) {
      const gate = await guard.begin(alice)
      assert.equal(gate.allowed, true, `successful login ${i}`)
      await gate.success()
      await gate.success() // settling twice changes nothing
    }
    // Two failures are still on the account and client budgets (4 each): two more pass.
    assert.equal(await wrongPasswords(guard, [alice, alice, alice]), 2)
  })

  test(`[${store}] a blocked attempt counts nowhere`, async () => {
    const guard = new LoginGuard({ ...options(), maxConsecutiveFailures: 100, maxFailuresPerIpPerDay: 2, maxFailuresPerAccountPerDay: 3 })
    const attacker = '192.0.2.66'
    assert.equal(await wrongPasswords(guard, [{ username: 'a', ip: attacker }, { username: 'b', ip: attacker }]), 2)
    // The client is blocked: its attempts on 'victim' must not drain the victim's budget.
    assert.equal(await wrongPasswords(guard, Array.from({ length: 10 }, () => ({ username: 'victim', ip: attacker }))), 0)
    assert.equal(await wrongPasswords(guard, Array.from({ length: 5 }, (_, i) => ({ username: 'victim', ip: `198.51.100.${i}` }))), 3)
  })
}

test('a full table blocks (fail closed): an attempt that cannot be recorded is not allowed', async () => {
  const guard = new LoginGuard({ maxKeys: 2 })
  assert.equal(await wrongPasswords(guard, [{ username: 'u1', ip: '192.0.2.1' }]), 1)
  assert.equal(await wrongPasswords(guard, [{ username: 'u2', ip: '192.0.2.1' }]), 1)
  // The pair table holds 2 keys now: 'admin' from this client cannot be tracked, so it is blocked.
  assert.equal(await wrongPasswords(guard, Array.from({ length: 50 }, () => ({ username: 'admin', ip: '192.0.2.1' }))), 0)
})

test('store failures: fail closed by default, fail open on request, hangs end at timeoutMs', async () => {
  const throwing = () => ({
    hit: () => {
      throw new Error('connection refused')
    },
    refund() {},
    reset() {},
  })
  const rejecting = () => ({ hit: () => Promise.reject(new Error('down')), refund: async () => {}, reset: async () => {} })
  const hanging = () => ({ hit: () => new Promise(() => {}), refund: () => new Promise(() => {}), reset: () => new Promise(() => {}) })
  const garbage = () => ({ hit: () => ({ allowed: 'yes' }), refund() {}, reset() {} })
  const attempt = { username: 'alice', ip: '192.0.2.1' }
  for (const createLimiter of [throwing, rejecting, hanging, garbage]) {
    const closed = await new LoginGuard({ createLimiter, timeoutMs: 50 }).begin(attempt)
    assert.equal(closed.allowed, false, createLimiter.name)
    assert.equal(closed.reason, 'store-error')
    assert.ok(closed.retryAfterMs > 0)
    const open = await new LoginGuard({ createLimiter, timeoutMs: 50, onStoreError: 'fail-open' }).begin(attempt)
    assert.equal(open.allowed, true, createLimiter.name)
    assert.equal(open.reason, 'store-error')
    await open.success() // never rejects, never hangs past the timeout
  }
})

test('progressive delay slows an account down as its failures grow', async () => {
  const guard = new LoginGuard({ maxConsecutiveFailures: 100, progressiveDelay: { afterFailures: 2, baseMs: 5, maxMs: 20 } })
  const delays = []
  for (let i = 0; i < 6; i++) {
    const gate = await guard.begin({ username: 'slow', ip: `192.0.2.${i}` })
    delays.push(gate.delayMs)
    await gate.failure()
  }
  assert.deepEqual(delays, [0, 0, 5, 10, 20, 20])
})

test('bad input: coded errors, never a crash; huge accounts are still limited', async () => {
  const guard = new LoginGuard({ maxConsecutiveFailures: 2 })
  for (const attempt of [undefined, null, 'alice', { username: 5, ip: '1.2.3.4' }, { username: 'a', ip: 5 }, { username: Symbol('a'), ip: 'x' }]) {
    await assert.rejects(guard.begin(attempt), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' })
  }
  const hostile = {
    get username() {
      throw new Error('boom')
    },
    ip: '1.2.3.4',
  }
  await assert.rejects(guard.begin(hostile), { name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE' })
  await assert.rejects(guard.begin(new Proxy({}, { get: () => { throw new Error('trap') } })), { code: 'ERR_INVALID_ARG_VALUE' })
  await assert.rejects(guard.begin({ username: 'a', ip: 'x'.repeat(101) }), { name: 'RangeError', code: 'ERR_OUT_OF_RANGE' })
  const huge = { username: 'x'.repeat(1 << 20), ip: '192.0.2.7' }
  assert.equal(await wrongPasswords(guard, [huge, huge, huge, huge]), 2)
  assert.equal(await wrongPasswords(guard, [{ username: `${'x'.repeat(1 << 20)}y`, ip: '192.0.2.7' }]), 1, 'another huge account is another key')

  for (const options of [null, 5, 'x']) assert.throws(() => new LoginGuard(options), { code: 'ERR_INVALID_ARG_TYPE' })
  for (const [name, value] of [['maxConsecutiveFailures', 0], ['blockMs', -1], ['timeoutMs', 1e9], ['ipv6Subnet', 70], ['maxFailuresPerAccountPerDay', 1.5]]) {
    assert.throws(() => new LoginGuard({ [name]: value }), { name: 'RangeError', code: 'ERR_OUT_OF_RANGE' }, name)
  }
  assert.throws(() => new LoginGuard({ onStoreError: 'open' }), { code: 'ERR_INVALID_ARG_VALUE' })
  assert.throws(() => new LoginGuard({ createLimiter: () => ({}) }), { code: 'ERR_INVALID_ARG_TYPE' })
  assert.throws(() => new LoginGuard({ get blockMs() { throw new Error('x') } }), { code: 'ERR_INVALID_ARG_VALUE' })
})

test('a blocked attempt publishes rampart:login.blocked with no password in it', async () => {
  const { subscribe, unsubscribe } = await import('node:diagnostics_channel')
  const seen = []
  const listener = (message) => seen.push(message)
  subscribe('rampart:login.blocked', listener)
  try {
    const guard = new LoginGuard({ maxConsecutiveFailures: 1 })
    await (await guard.begin({ username: 'Eve@Example.com', ip: '2001:db8:7::1' })).failure()
    assert.equal((await guard.begin({ username: 'eve@example.com', ip: '2001:db8:7::2' })).allowed, false)
  } finally {
    unsubscribe('rampart:login.blocked', listener)
  }
  assert.equal(seen.length, 1)
  assert.equal(seen[0].account, 'eve@example.com')
  assert.equal(seen[0].ip, '2001:db8:7:0:0:0:0:0/56')
  assert.ok(seen[0].retryAfterMs > 0)
})
