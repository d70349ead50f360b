// RedisRateLimiter against a real redis-server (started here, on a free loopback port), with both
// clients: one table of semantic cases shared with the native RateLimiter; the Lua script on a
// fixed clock against the vectors of src/ratelimit/algorithm.rs and an exact reference model;
// two processes sharing one limit; NOSCRIPT recovery; TTLs; bad input.
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { describe, test } from 'node:test'
import { promisify } from 'node:util'

import { RateLimiter, RedisRateLimiter } from 'rampart'
import { RedisRateLimiter as FromSubpath } from 'rampart/redis'

import { keysWithTtl, sharedRedis } from './helpers/redis-server.mjs'

const TYPE = { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' }
const VALUE = { name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE' }
const RANGE = { name: 'RangeError', code: 'ERR_OUT_OF_RANGE' }
const MAX = 0xffffffff
let prefixes = 0
const prefix = () => `rt${process.pid}-${++prefixes}:`

const redis = sharedRedis('rt*')

// One table, three stores. Times are checked within TOLERANCE ms (the calls take time); the
// sliding window's times depend on where the aligned windows fall on each clock, so those
// cases check decisions and remaining counts only (with a one-day window nothing crosses one).
const TOLERANCE = 2000
const CASES = [
  {
    name: 'gcra: burst, denial, cost 0, refund, reset',
    options: { limit: 3, windowMs: 60_000 },
    steps: [
      ['hit', 'k', undefined, { allowed: true, remaining: 2, resetMs: 20_000, retryAfterMs: 0 }],
      ['hit', 'k', 2, { allowed: true, remaining: 0, resetMs: 60_000, retryAfterMs: 0 }],
      ['hit', 'k', 1, { allowed: false, remaining: 0, resetMs: 60_000, retryAfterMs: 20_000 }],
      ['hit', 'k', 1, { allowed: false, remaining: 0, resetMs: 60_000, retryAfterMs: 20_000 }],
      ['hit', 'k', 2, { allowed: false, remaining: 0, resetMs: 60_000, retryAfterMs: 40_000 }],
      ['peek', 'k', 0, { allowed: true, remaining: 0, resetMs: 60_000, retryAfterMs: 0 }],
      ['hit', 'k', 0, { allowed: true, remaining: 0, resetMs: 60_000, retryAfterMs: 0 }],
      ['refund', 'k', 1],
      ['peek', 'k', 1, { allowed: true, remaining: 0, resetMs: 60_000, retryAfterMs: 0 }],
      ['hit', 'k', 1, { allowed: true, remaining: 0, resetMs: 60_000, retryAfterMs: 0 }],
      ['refund', 'k', 100, 'range'],
      ['refund', 'k', 3],
      ['peek', 'k', 1, { allowed: true, remaining: 2, resetMs: 20_000, retryAfterMs: 0 }],
      ['hit', 'other', 1, { allowed: true, remaining: 2, resetMs: 20_000, retryAfterMs: 0 }],
      ['reset', 'other', undefined, true],
      ['reset', 'other', undefined, false],
      ['refund', 'never-seen', 1],
      ['peek', 'never-seen', 3, { allowed: true, remaining: 0, resetMs: 60_000, retryAfterMs: 0 }],
    ],
  },
  {
    name: 'fixed-window: counts per window, refund never below zero',
    options: { limit: 3, windowMs: 60_000, algorithm: 'fixed-window' },
    steps: [
      ['peek', 'k', 1, { allowed: true, remaining: 2, resetMs: 60_000, retryAfterMs: 0 }],
      ['hit', 'k', 3, { allowed: true, remaining: 0, resetMs: 60_000, retryAfterMs: 0 }],
      ['hit', 'k', 1, { allowed: false, remaining: 0, resetMs: 60_000, retryAfterMs: 60_000 }],
      ['peek', 'k', 0, { allowed: true, remaining: 0, resetMs: 60_000, retryAfterMs: 0 }],
      ['refund', 'k', 1],
      ['hit', 'k', 1, { allowed: true, remaining: 0, resetMs: 60_000, retryAfterMs: 0 }],
      ['refund', 'k', 3],
      ['refund', 'k', 3],
      ['peek', 'k', 1, { allowed: true, remaining: 2, resetMs: 60_000, retryAfterMs: 0 }],
      ['hit', 'k', 2, { allowed: true, remaining: 1, resetMs: 60_000, retryAfterMs: 0 }],
      ['reset', 'k', undefined, true],
      ['peek', 'k', 3, { allowed: true, remaining: 0, resetMs: 60_000, retryAfterMs: 0 }],
    ],
  },
  {
    name: 'sliding-window: decisions and remaining',
    options: { limit: 5, windowMs: 86_400_000, algorithm: 'sliding-window' },
    steps: [
      ['hit', 'k', 2, { allowed: true, remaining: 3 }],
      ['hit', 'k', 3, { allowed: true, remaining: 0 }],
      ['hit', 'k', 1, { allowed: false, remaining: 0 }],
      ['peek', 'k', 0, { allowed: true, remaining: 0 }],
      ['refund', 'k', 2],
      ['hit', 'k', 1, { allowed: true, remaining: 1 }],
      ['hit', 'k', 2, { allowed: false, remaining: 1 }],
      ['refund', 'k', 50, 'range'],
      ['refund', 'k', 5],
      ['peek', 'k', 5, { allowed: true, remaining: 0 }],
    ],
  },
  {
    name: 'largest limit and window: no precision lost',
    options: { limit: MAX, windowMs: MAX },
    steps: [
      ['hit', 'k', MAX, { allowed: true, remaining: 0, resetMs: MAX, retryAfterMs: 0 }],
      // (Capacity comes back at 1 per ms here, so only waits of many ms are checked.)
      ['hit', 'k', MAX, { allowed: false, remaining: undefined, resetMs: MAX, retryAfterMs: MAX }],
      ['hit', 'k2', 7, { allowed: true, remaining: MAX - 7, resetMs: 7, retryAfterMs: 0 }],
    ],
  },
  {
    name: 'largest limit, fixed and sliding windows',
    options: { limit: MAX, windowMs: MAX, algorithm: 'fixed-window' },
    steps: [
      ['hit', 'k', MAX - 1, { allowed: true, remaining: 1, resetMs: MAX, retryAfterMs: 0 }],
      ['hit', 'k', 2, { allowed: false, remaining: 1, resetMs: MAX, retryAfterMs: MAX }],
      ['hit', 'k', 1, { allowed: true, remaining: 0, resetMs: MAX, retryAfterMs: 0 }],
    ],
  },
  {
    name: 'one per window',
    options: { limit: 1, windowMs: 1, algorithm: 'gcra' },
    steps: [['peek', 'k', 1, { allowed: true, remaining: 0, resetMs: 1, retryAfterMs: 0 }]],
  },
]

const STORES = {
  native: (options) => new RateLimiter(options),
  ioredis: (options) => new RedisRateLimiter({ client: redis.io, prefix: prefix(), timeoutMs: 5000, ...options }),
  'node-redis': (options) => new RedisRateLimiter({ client: redis.nr, prefix: prefix(), timeoutMs: 5000, ...options }),
}

for (const [storeName, make] of Object.entries(STORES)) {
  describe(`semantic cases: ${storeName}`, () => {
    for (const { name, options, steps } of CASES) {
      test(name, async () => {
        const limiter = make(options)
        for (const [i, [op, key, cost, expected]] of steps.entries()) {
          const where = `${name}, step ${i} (${op} ${cost})`
          if (expected === 'range') {
            await assert.rejects(Promise.resolve().then(() => limiter[op](key, cost)), RANGE, where)
            continue
          }
          const result = await limiter[op](key, cost)
          if (op === 'refund') assert.equal(result, undefined, where)
          else if (op === 'reset') assert.equal(result, expected, where)
          else {
            assert.equal(result.allowed, expected.allowed, where)
            assert.equal(result.limit, options.limit, where)
            if (expected.remaining !== undefined) assert.equal(result.remaining, expected.remaining, where)
            assert.deepEqual(Object.keys(result), ['allowed', 'limit', 'remaining', 'resetMs', 'retryAfterMs'], where)
            for (const field of ['resetMs', 'retryAfterMs']) {
              if (expected[field] === undefined) continue
              assert.ok(Math.abs(result[field] - expected[field]) <= TOLERANCE, `${where}: ${field} ${result[field]}, expected about ${expected[field]}`)
              if (expected[field] === 0) assert.equal(result[field], 0, where)
            }
          }
        }
      })
    }
  })
}

// The production script with the TIME call replaced by the last two arguments (seconds, us), so
// that the algorithms can be checked exactly, on a fixed clock, like algorithm.rs's tests.
const SOURCE = readFileSync(new URL('../js/ratelimit.lua', import.meta.url), 'utf8')
// Keys still expire on Redis's real clock, so the TTLs get an hour more here.
const FIXED_CLOCK = SOURCE.replace("local clock = redis.call('TIME')", 'local clock = { ARGV[#ARGV - 1], ARGV[#ARGV] }').replace(
  "'PX', math.ceil(ttl / 1000)",
  "'PX', math.ceil(ttl / 1000) + 3600000",
)
assert.equal(FIXED_CLOCK.length, SOURCE.length + 24)

/** One script call at `nowUs` (a BigInt or number of microseconds). */
async function at(key, algorithm, limit, windowUs, nowUs, op, cost) {
  const now = BigInt(nowUs)
  const reply = await redis.io.eval(
    FIXED_CLOCK, 1, key, { gcra: 'g', 'fixed-window': 'f', 'sliding-window': 's' }[algorithm], String(limit), String(windowUs),
    op, String(cost), String(now / 1_000_000n), String(now % 1_000_000n),
  )
  const [allowed, remaining, resetUs, retryUs] = reply
  return { allowed: allowed === 1, remaining, resetUs, retryUs }
}

const SEC = 1_000_000 // us

describe('the Lua script on a fixed clock', () => {
  test('GCRA: burst then rate, exactly (algorithm.rs gcra_burst_then_rate_exactly)', async () => {
    const key = `${prefix()}{g}`
    const t0 = 1_700_000_005 * SEC
    for (let i = 0; i < 3; i++) {
      const o = await at(key, 'gcra', 3, SEC, t0, 'h', 1)
      assert.deepEqual([o.allowed, o.remaining], [true, 2 - i])
    }
    const denied = await at(key, 'gcra', 3, SEC, t0, 'h', 1)
    assert.deepEqual(denied, { allowed: false, remaining: 0, resetUs: SEC, retryUs: 333_334 })
    assert.equal((await at(key, 'gcra', 3, SEC, t0 + 333_333, 'h', 1)).allowed, false)
    assert.equal((await at(key, 'gcra', 3, SEC, t0 + 333_334, 'h', 1)).allowed, true)
    const key2 = `${prefix()}{g2}`
    let admitted = 0
    const calls = []
    for (let ms = 0; ms < 60_000; ms++) calls.push(at(key2, 'gcra', 3, SEC, t0 + ms * 1000, 'h', 1))
    for (const o of await Promise.all(calls)) if (o.allowed) admitted++
    assert.equal(admitted, 3 + 3 * 60 - 1)
  })

  test('GCRA matches an exact reference model (algorithm.rs gcra_matches_a_reference_model)', async () => {
    const limit = 7n
    const window = 3n * BigInt(SEC)
    const key = `${prefix()}{model}`
    let queue = 0n // units x window, drained at `limit` per us
    let last = 0n
    let now = 1_700_000_010n * BigInt(SEC)
    let seed = 12345n
    const mask = (1n << 64n) - 1n
    for (let i = 0; i < 1500; i++) {
      seed = (seed * 6364136223846793005n + 1442695040888963407n) & mask
      now += (seed >> 33n) % (BigInt(SEC) / 3n)
      const cost = Number((seed >> 20n) % 3n) + 1
      if (last) queue = queue > (now - last) * limit ? queue - (now - last) * limit : 0n
      last = now
      const fits = queue + BigInt(cost) * window <= limit * window
      const o = await at(key, 'gcra', 7, window, now, 'h', cost)
      assert.equal(o.allowed, fits, `step ${i}`)
      if (fits) queue += BigInt(cost) * window
      assert.equal(BigInt(o.remaining), (limit * window - queue) / window, `step ${i}`)
    }
  })

  test('fixed and sliding windows (algorithm.rs fixed_window_semantics, sliding_window_semantics)', async () => {
    const fixed = `${prefix()}{f}`
    const t0 = 1_700_000_100 * SEC
    const w = 10 * SEC
    assert.equal((await at(fixed, 'fixed-window', 3, w, t0, 'h', 1)).resetUs, w)
    assert.equal((await at(fixed, 'fixed-window', 3, w, t0 + SEC, 'h', 2)).allowed, true)
    assert.deepEqual(await at(fixed, 'fixed-window', 3, w, t0 + 4 * SEC, 'h', 1), { allowed: false, remaining: 0, resetUs: 6 * SEC, retryUs: 6 * SEC })
    assert.deepEqual(await at(fixed, 'fixed-window', 3, w, t0 + w, 'h', 3), { allowed: true, remaining: 0, resetUs: w, retryUs: 0 })

    const sliding = `${prefix()}{s}`
    const s0 = 1_700_001_000 * SEC // aligned to the 10 s window
    for (let i = 0; i < 10; i++) assert.equal((await at(sliding, 'sliding-window', 10, w, s0 + SEC, 'h', 1)).allowed, true)
    assert.equal((await at(sliding, 'sliding-window', 10, w, s0 + 2 * SEC, 'h', 1)).allowed, false)
    // Next window, 25% in: the previous 10 weigh 7.5, so 2 more fit, not 3.
    const t = s0 + 12 * SEC + SEC / 2
    const two = await at(sliding, 'sliding-window', 10, w, t, 'p', 2)
    assert.deepEqual([two.allowed, two.remaining], [true, 0])
    const three = await at(sliding, 'sliding-window', 10, w, t, 'p', 3)
    assert.equal(three.allowed, false)
    assert.equal((await at(sliding, 'sliding-window', 10, w, t + three.retryUs, 'p', 3)).allowed, true)
    assert.equal((await at(sliding, 'sliding-window', 10, w, t + three.retryUs - 1, 'p', 3)).allowed, false)
  })

  test('denial waits are exact for all algorithms (algorithm.rs denial_waits_are_exact_for_all_algorithms)', async () => {
    for (const algorithm of ['gcra', 'fixed-window', 'sliding-window']) {
      const key = `${prefix()}{wait-${algorithm}}`
      let seed = 99n
      const mask = (1n << 64n) - 1n
      let now = 1_700_002_000n * BigInt(SEC)
      for (let i = 0; i < 400; i++) {
        seed = (seed * 6364136223846793005n + 1n) & mask
        now += (seed >> 35n) % (BigInt(SEC) / 2n)
        const cost = Number((seed >> 10n) % 5n) + 1
        const o = await at(key, algorithm, 5, 2 * SEC, now, 'h', cost)
        if (o.allowed) continue
        const then = now + BigInt(o.retryUs)
        assert.equal((await at(key, algorithm, 5, 2 * SEC, then, 'p', cost)).allowed, true, `${algorithm} step ${i}`)
        if (o.retryUs > 0 && algorithm !== 'fixed-window') {
          assert.equal((await at(key, algorithm, 5, 2 * SEC, then - 1n, 'p', cost)).allowed, false, `${algorithm} step ${i}`)
        }
      }
    }
  })

  test('a clock stepped back never lengthens a wait beyond one window', async () => {
    const key = `${prefix()}{back}`
    const t0 = 1_700_003_000 * SEC
    assert.equal((await at(key, 'gcra', 2, SEC, t0, 'h', 2)).allowed, true)
    const o = await at(key, 'gcra', 2, SEC, t0 - 3600 * SEC, 'h', 1)
    assert.equal(o.allowed, false)
    assert.ok(o.retryUs <= SEC / 2 + 1, String(o.retryUs))
    assert.ok(o.resetUs <= SEC, String(o.resetUs))
  })
})

for (const clientName of ['ioredis', 'node-redis']) {
  describe(`RedisRateLimiter over ${clientName}`, () => {
    const client = () => (clientName === 'ioredis' ? redis.io : redis.nr)

    test('concurrent hits from one process are batched into few script calls and stay exact', async () => {
      const limiter = new RedisRateLimiter({ client: client(), limit: 60, windowMs: 60_000, prefix: prefix(), timeoutMs: 5000 })
      const results = await Promise.all(Array.from({ length: 100 }, () => limiter.hit('hot')))
      assert.equal(results.filter((r) => r.allowed).length, 60)
      const stats = limiter.stats()
      assert.equal(stats.calls, 100)
      // 100 hits in one tick: two script calls of 50 (two in flight let Node and Redis work at
      // the same time), run in order, so the count stays exact.
      assert.equal(stats.scriptCalls, 2, `script calls: ${stats.scriptCalls}`)
      // A few hits in one tick: one call.
      const few = new RedisRateLimiter({ client: client(), limit: 60, windowMs: 60_000, prefix: prefix(), timeoutMs: 5000 })
      await Promise.all(Array.from({ length: 8 }, () => few.hit('few')))
      assert.equal(few.stats().scriptCalls, 1)
      // Now denied: answered locally, without a script call.
      const before = limiter.stats().scriptCalls
      const again = await limiter.hit('hot')
      assert.equal(again.allowed, false)
      assert.ok(again.retryAfterMs > 0)
      assert.equal(limiter.stats().scriptCalls, before)
      assert.equal(limiter.stats().localDenials, 1)
      // A reset clears the local denial too.
      assert.equal(await limiter.reset('hot'), true)
      assert.equal((await limiter.hit('hot')).allowed, true)
    })

    test('a tick mixing operations and costs runs them in order; a tick of equal hits shares one operation', async () => {
      // ratelimit.lua takes the operation and cost once when every key of a call shares them,
      // else one pair per key: both forms, each in one script call, answer as the native limiter
      // does when the same calls are made one after the other.
      const options = { limit: 5, windowMs: 60_000, algorithm: 'fixed-window' }
      const limiter = new RedisRateLimiter({ client: client(), prefix: prefix(), timeoutMs: 5000, ...options })
      const native = new RateLimiter(options)
      const shape = (r) => (r === undefined ? r : [r.allowed, r.remaining])
      const ticks = [
        [['hit', 'a', 2], ['peek', 'a', 1], ['hit', 'b', 1], ['refund', 'a', 1], ['hit', 'a', 1], ['peek', 'b', 5]],
        Array.from({ length: 4 }, () => ['hit', 'c', 2]),
        Array.from({ length: 3 }, () => ['peek', 'c', 1]),
      ]
      for (const [i, tick] of ticks.entries()) {
        const got = await Promise.all(tick.map(([op, key, cost]) => limiter[op](key, cost)))
        const expected = tick.map(([op, key, cost]) => shape(native[op](key, cost)))
        assert.deepEqual(got.map(shape), expected, `tick ${i}`)
        assert.equal(limiter.stats().scriptCalls, i + 1)
      }
      assert.ok(ticks.flat().length > 0)
    })

    test('the local cache is exact about retry times for other costs', async () => {
      const limiter = new RedisRateLimiter({ client: client(), limit: 4, windowMs: 60_000, prefix: prefix(), timeoutMs: 5000 })
      await limiter.hit('k', 4)
      const one = await limiter.hit('k', 1)
      const two = await limiter.hit('k', 2)
      assert.ok(two.retryAfterMs > one.retryAfterMs + 10_000, `${one.retryAfterMs} ${two.retryAfterMs}`)
      assert.equal((await limiter.hit('k', 0)).allowed, true)
    })

    test('two limiters on one prefix share counts; different prefixes do not', async () => {
      const shared = prefix()
      const a = new RedisRateLimiter({ client: client(), limit: 3, windowMs: 60_000, prefix: shared, timeoutMs: 5000 })
      const b = new RedisRateLimiter({ client: client(), limit: 3, windowMs: 60_000, prefix: shared, timeoutMs: 5000 })
      const c = new RedisRateLimiter({ client: client(), limit: 3, windowMs: 60_000, prefix: prefix(), timeoutMs: 5000 })
      await a.hit('k', 2)
      assert.equal((await b.hit('k')).remaining, 0)
      assert.equal((await c.hit('k')).remaining, 2)
    })

    test('NOSCRIPT after SCRIPT FLUSH: reloaded by itself, no error reported', async () => {
      const limiter = new RedisRateLimiter({ client: client(), limit: 5, windowMs: 60_000, prefix: prefix(), timeoutMs: 5000 })
      const outages = []
      limiter.on('outage', (error) => outages.push(error))
      assert.equal((await limiter.hit('k')).remaining, 4)
      await redis.server.command('SCRIPT', 'FLUSH')
      assert.equal((await limiter.hit('k')).remaining, 3)
      assert.equal((await limiter.hit('k')).remaining, 2)
      assert.deepEqual(outages, [])
      assert.equal(limiter.stats().storeErrors, 0)
    })

    test('keys carry a hash tag and a TTL that ends when the key is fresh again', async () => {
      const p = prefix()
      for (const algorithm of ['gcra', 'fixed-window', 'sliding-window']) {
        const limiter = new RedisRateLimiter({ client: client(), limit: 5, windowMs: 60_000, algorithm, prefix: `${p}${algorithm}:`, timeoutMs: 5000 })
        await limiter.hit('user:1', 2)
        await limiter.refund('user:1', 1)
      }
      const keys = await keysWithTtl(redis.io, `${p}*`)
      assert.equal(keys.length, 3)
      for (const { key, pttl } of keys) {
        assert.match(key, /:\{user:1\}$/)
        assert.ok(pttl > 0 && pttl <= 120_000, `${key} ${pttl}`)
      }
      // A refund that brings a key back to fresh deletes it.
      const limiter = new RedisRateLimiter({ client: client(), limit: 5, windowMs: 60_000, prefix: `${p}gone:`, timeoutMs: 5000 })
      await limiter.hit('k', 2)
      await limiter.refund('k', 2)
      assert.deepEqual(await keysWithTtl(redis.io, `${p}gone:*`), [])
    })

    test('bad arguments reject with coded errors; Redis is not called', async () => {
      const limiter = new RedisRateLimiter({ client: client(), limit: 5, windowMs: 60_000, prefix: prefix() })
      for (const method of ['hit', 'peek', 'refund', 'reset']) {
        for (const key of [undefined, null, 42, {}, ['k'], Buffer.from('k'), Symbol('k')]) await assert.rejects(limiter[method](key), TYPE)
        await assert.rejects(limiter[method]('x'.repeat(1025)), RANGE)
        await assert.rejects(limiter[method]('é'.repeat(513)), RANGE, 'the limit is in UTF-8 bytes')
      }
      assert.equal((await limiter.hit('x'.repeat(1024))).allowed, true)
      for (const cost of [-1, 6, 1.5, NaN, Infinity]) await assert.rejects(limiter.hit('k', cost), RANGE)
      for (const cost of ['1', null, 1n]) await assert.rejects(limiter.hit('k', cost), TYPE)
      assert.equal(limiter.stats().storeErrors, 0)
    })

    test('keys with braces, spaces, newlines and other scripts', async () => {
      const limiter = new RedisRateLimiter({ client: client(), limit: 1, windowMs: 60_000, prefix: prefix(), timeoutMs: 5000 })
      const keys = ['', '{', '}', '{}', 'a}b{c', ' ', '\r\n*1\r\n$4\r\nPING\r\n', 'ключ', '🔑', '\u0000']
      const first = await Promise.all(keys.map((k) => limiter.hit(k)))
      assert.deepEqual(first.map((r) => r.allowed), keys.map(() => true))
      const second = await Promise.all(keys.map((k) => limiter.hit(k)))
      assert.deepEqual(second.map((r) => r.allowed), keys.map(() => false))
    })
  })
}

test('two Node processes, 50 concurrent hits each, limit 60: exactly 60 admitted', async () => {
  const p = prefix()
  const run = promisify(execFile)
  const source = `
    const Redis = require('ioredis')
    const { RedisRateLimiter } = require('rampart')
    const client = new Redis({ port: ${redis.server.port}, host: '127.0.0.1' })
    const limiter = new RedisRateLimiter({ client, limit: 60, windowMs: 60000, prefix: '${p}', timeoutMs: 10000 })
    client.once('ready', async () => {
      const results = await Promise.all(Array.from({ length: 50 }, () => limiter.hit('shared')))
      console.log(JSON.stringify({ allowed: results.filter((r) => r.allowed).length, errors: limiter.stats().storeErrors }))
      client.disconnect()
    })`
  const children = await Promise.all([0, 1].map(() => run(process.execPath, ['-e', source], { cwd: new URL('..', import.meta.url) })))
  const counts = children.map(({ stdout }) => JSON.parse(stdout))
  assert.deepEqual(counts.map((c) => c.errors), [0, 0])
  assert.equal(counts[0].allowed + counts[1].allowed, 60, JSON.stringify(counts))
})

test('rampart and rampart/redis export the same class', () => {
  assert.equal(FromSubpath, RedisRateLimiter)
})

test('constructor: options are checked, the client is recognized by its API', () => {
  const base = { client: redis.io, limit: 5, windowMs: 1000 }
  for (const client of [undefined, null, {}, 'redis://127.0.0.1', { eval() {} }, { evalsha: 1, eval() {} }, new Map(), () => {}]) {
    assert.throws(() => new RedisRateLimiter({ ...base, client }), TYPE)
  }
  assert.throws(() => new RedisRateLimiter(), TYPE)
  assert.throws(() => new RedisRateLimiter(null), TYPE)
  assert.throws(() => new RedisRateLimiter({ ...base, limit: undefined }), TYPE)
  assert.throws(() => new RedisRateLimiter({ ...base, limit: 0 }), RANGE)
  assert.throws(() => new RedisRateLimiter({ ...base, limit: 2 ** 32 }), RANGE)
  assert.throws(() => new RedisRateLimiter({ ...base, windowMs: 1.5 }), RANGE)
  assert.throws(() => new RedisRateLimiter({ ...base, windowMs: '1000' }), TYPE)
  assert.throws(() => new RedisRateLimiter({ ...base, algorithm: 'leaky' }), VALUE)
  assert.throws(() => new RedisRateLimiter({ ...base, prefix: 'a{b}:' }), VALUE)
  assert.throws(() => new RedisRateLimiter({ ...base, prefix: 7 }), TYPE)
  assert.throws(() => new RedisRateLimiter({ ...base, prefix: 'p'.repeat(257) }), RANGE)
  assert.throws(() => new RedisRateLimiter({ ...base, timeoutMs: 0 }), RANGE)
  assert.throws(() => new RedisRateLimiter({ ...base, onStoreError: 'ignore' }), VALUE)
  assert.throws(() => new RedisRateLimiter({ ...base, cluster: 'yes' }), TYPE)
  const limiter = new RedisRateLimiter({ ...base, client: redis.nr })
  assert.deepEqual([limiter.limit, limiter.windowMs, limiter.algorithm, limiter.prefix], [5, 1000, 'gcra', 'rampart:'])
})
