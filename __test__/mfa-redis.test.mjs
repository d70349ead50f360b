// RedisTotpStepStore against a real redis-server (started here, on a free loopback port), with both
// clients: the TotpStepStore contract, TTLs, NOSCRIPT, a value of another type under the key, an
// unreachable and a slow Redis (TotpGuard fails closed), and replay of one code across two Node
// processes sharing Redis: exactly one of them accepts it.
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { describe, test } from 'node:test'
import { promisify } from 'node:util'

import Redis from 'ioredis'
import { Totp } from 'rampart'
import { TotpGuard } from 'rampart/mfa'
import { RedisTotpStepStore } from 'rampart/redis'

import { sharedRedis, startRedis } from './helpers/redis-server.mjs'

const TYPE = { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' }
const VALUE = { name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE' }
const RANGE = { name: 'RangeError', code: 'ERR_OUT_OF_RANGE' }
const T = 1_700_000_000
let prefixes = 0
const prefix = () => `mt${process.pid}-${++prefixes}:`

const redis = sharedRedis('mt*')

for (const kind of ['ioredis', 'node-redis']) {
  describe(`RedisTotpStepStore (${kind})`, () => {
    const client = () => (kind === 'ioredis' ? redis.io : redis.nr)

    test('get/advance: only a later step is stored, atomically, with the TTL given', async () => {
      const store = new RedisTotpStepStore({ client: client(), prefix: prefix() })
      assert.equal(await store.get('alice'), null)
      assert.equal(await store.advance('alice', 100, 90_000), true)
      assert.equal(await store.get('alice'), 100)
      assert.equal(await store.advance('alice', 100, 90_000), false, 'the same step again')
      assert.equal(await store.advance('alice', 99, 90_000), false, 'an earlier step')
      assert.equal(await store.advance('alice', 101, 90_000), true)
      assert.equal(await store.get('alice'), 101)
      assert.equal(await store.get('bob'), null, 'one step per account')
      const ttl = await redis.io.pttl(`${store.prefix}{alice}`)
      assert.ok(ttl > 80_000 && ttl <= 90_000, `TTL ${ttl} ms`)
      // 20 concurrent advances to one step: exactly one stores it.
      const results = await Promise.all(Array.from({ length: 20 }, () => store.advance('race', 7, 60_000)))
      assert.equal(results.filter(Boolean).length, 1)
    })

    test('TotpGuard over it: a code once, replayed after, a later code accepted', async () => {
      const guard = new TotpGuard({ store: new RedisTotpStepStore({ client: client(), prefix: prefix() }) })
      const totp = new Totp({ secret: Totp.generateSecret() })
      const code = totp.generate({ time: T })
      assert.deepEqual(await guard.verify({ totp, code, account: 7, time: T }), { ok: true, step: Math.floor(T / 30), delta: 0 })
      assert.deepEqual(await guard.verify({ totp, code, account: 7, time: T + 5 }), { ok: false, reason: 'replayed' })
      assert.equal((await guard.verify({ totp, code: totp.generate({ time: T + 30 }), account: 7, time: T + 30 })).ok, true)
    })
  })
}

test('NOSCRIPT: after SCRIPT FLUSH the store loads its script again', async () => {
  const store = new RedisTotpStepStore({ client: redis.io, prefix: prefix() })
  assert.equal(await store.advance('a', 1, 60_000), true)
  await redis.io.script('FLUSH')
  assert.equal(await store.get('a'), 1)
  await redis.nr.scriptFlush()
  assert.equal(await new RedisTotpStepStore({ client: redis.nr, prefix: store.prefix }).advance('a', 2, 60_000), true)
})

test('a key holding something else is refused (fail closed), never read as "no step"', async () => {
  const store = new RedisTotpStepStore({ client: redis.io, prefix: prefix() })
  await redis.io.set(`${store.prefix}{text}`, 'not a step', 'PX', 60_000)
  await redis.io.hset(`${store.prefix}{hash}`, 'f', '1')
  await redis.io.pexpire(`${store.prefix}{hash}`, 60_000)
  for (const account of ['text', 'hash']) {
    await assert.rejects(store.get(account), { code: /^ERR_RAMPART_REDIS/ })
    await assert.rejects(store.advance(account, 5, 60_000), { code: /^ERR_RAMPART_REDIS/ })
  }
  const guard = new TotpGuard({ store })
  const totp = new Totp({ secret: Totp.generateSecret() })
  await assert.rejects(guard.verify({ totp, code: totp.generate({ time: T }), account: 'text', time: T }), { code: /^ERR_RAMPART_REDIS/ })
})

test('Redis down or slow: calls reject within timeoutMs with a coded error, and TotpGuard refuses (fail closed)', async () => {
  const own = await startRedis()
  const client = new Redis({ port: own.port, host: own.host, lazyConnect: true, maxRetriesPerRequest: 1 })
  client.on('error', () => {})
  await client.connect()
  try {
    const store = new RedisTotpStepStore({ client, prefix: prefix(), timeoutMs: 100 })
    const totp = new Totp({ secret: Totp.generateSecret() })
    const code = totp.generate({ time: T })
    const guard = new TotpGuard({ store })
    // Slow: DEBUG SLEEP holds the server past timeoutMs.
    const sleeping = client.duplicate()
    sleeping.on('error', () => {})
    const nap = sleeping.call('DEBUG', 'SLEEP', '0.5').catch(() => {})
    await new Promise((resolve) => setTimeout(resolve, 20))
    let started = performance.now()
    await assert.rejects(guard.verify({ totp, code, account: 'slow', time: T }), { code: 'ERR_RAMPART_REDIS_TIMEOUT' })
    assert.ok(performance.now() - started < 400, 'rejected at the timeout, not when Redis woke up')
    await nap
    sleeping.disconnect()
    // Down: killed.
    await own.kill('SIGKILL')
    started = performance.now()
    await assert.rejects(guard.verify({ totp, code, account: 'down', time: T }), { code: /^ERR_RAMPART_REDIS/ })
    assert.ok(performance.now() - started < 1000)
    // Back: it works again by itself, and the code nobody accepted is accepted once.
    await own.restart()
    const deadline = performance.now() + 5000
    let result
    while (performance.now() < deadline) {
      result = await guard.verify({ totp, code, account: 'down', time: T }).catch((error) => error)
      if (!(result instanceof Error)) break
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    assert.deepEqual(result, { ok: true, step: Math.floor(T / 30), delta: 0 })
  } finally {
    client.disconnect()
    await own.stop()
  }
})

test('two Node processes sharing Redis, 10 concurrent tries each of one code: exactly one accepted', async () => {
  const p = prefix()
  const secret = Totp.generateSecret()
  const code = new Totp({ secret }).generate({ time: T })
  const run = promisify(execFile)
  const source = `
    const Redis = require('ioredis')
    const { Totp } = require('rampart')
    const { TotpGuard } = require('rampart/mfa')
    const { RedisRateLimiter, RedisTotpStepStore } = require('rampart/redis')
    const client = new Redis({ port: ${redis.server.port}, host: '127.0.0.1' })
    const guard = new TotpGuard({
      store: new RedisTotpStepStore({ client, prefix: '${p}', timeoutMs: 10000 }),
      limiter: new RedisRateLimiter({ client, limit: 100, windowMs: 60000, prefix: '${p}limit:', timeoutMs: 10000, onStoreError: 'fail-closed' }),
    })
    const totp = new Totp({ secret: '${secret}' })
    client.once('ready', async () => {
      const results = await Promise.all(Array.from({ length: 10 }, () => guard.verify({ totp, code: '${code}', account: 'shared', time: ${T} })))
      console.log(JSON.stringify(results.map((r) => r.ok ? 'ok' : r.reason)))
      client.disconnect()
    })`
  const children = await Promise.all([0, 1].map(() => run(process.execPath, ['-e', source], { cwd: new URL('..', import.meta.url) })))
  const outcomes = children.flatMap(({ stdout }) => JSON.parse(stdout))
  assert.equal(outcomes.length, 20)
  assert.equal(outcomes.filter((o) => o === 'ok').length, 1, JSON.stringify(outcomes))
  assert.ok(outcomes.filter((o) => o !== 'ok').every((o) => o === 'replayed'), JSON.stringify(outcomes))
  // The other process sees it as used too.
  const guard = new TotpGuard({ store: new RedisTotpStepStore({ client: redis.nr, prefix: p }) })
  assert.deepEqual(await guard.verify({ totp: new Totp({ secret }), code, account: 'shared', time: T }), { ok: false, reason: 'replayed' })
})

test('constructor and arguments: coded errors, the client recognized by its API', async () => {
  for (const client of [undefined, null, {}, 'redis://127.0.0.1', { eval() {} }, new Map()]) {
    assert.throws(() => new RedisTotpStepStore({ client }), TYPE)
  }
  assert.throws(() => new RedisTotpStepStore(), TYPE)
  assert.throws(() => new RedisTotpStepStore({ client: redis.io, prefix: 'a{b}' }), VALUE)
  assert.throws(() => new RedisTotpStepStore({ client: redis.io, prefix: 1 }), TYPE)
  assert.throws(() => new RedisTotpStepStore({ client: redis.io, prefix: 'p'.repeat(257) }), RANGE)
  assert.throws(() => new RedisTotpStepStore({ client: redis.io, timeoutMs: 0 }), RANGE)
  const store = new RedisTotpStepStore({ client: redis.io })
  assert.equal(store.prefix, 'rampart:totp:')
  await assert.rejects(store.get(42), TYPE)
  await assert.rejects(store.get(''), VALUE)
  await assert.rejects(store.get('x'.repeat(1025)), RANGE)
  await assert.rejects(store.advance('a', -1, 1000), RANGE)
  await assert.rejects(store.advance('a', 1.5, 1000), RANGE)
  await assert.rejects(store.advance('a', '1', 1000), TYPE)
  await assert.rejects(store.advance('a', 1, 0), RANGE)
})
