// RateLimiter through the package entry point: semantics, worker-thread sharing, bounds, bad input.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Worker } from 'node:worker_threads'

import { RateLimiter } from 'rampart'
import { createRequire } from 'node:module'

const native = createRequire(import.meta.url)('rampart')
const TYPE = { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' }
const VALUE = { name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE' }
const RANGE = { name: 'RangeError', code: 'ERR_OUT_OF_RANGE' }

test('hit, peek, reset, size, clear and the result fields', () => {
  const limiter = new RateLimiter({ limit: 3, windowMs: 60_000 })
  assert.deepEqual(limiter.peek('k'), { allowed: true, limit: 3, remaining: 2, resetMs: 20_000, retryAfterMs: 0 })
  assert.equal(limiter.size, 0, 'peek stores nothing')
  assert.deepEqual(limiter.hit('k'), { allowed: true, limit: 3, remaining: 2, resetMs: 20_000, retryAfterMs: 0 })
  assert.equal(limiter.hit('k', 2).remaining, 0)
  const denied = limiter.hit('k')
  assert.equal(denied.allowed, false)
  assert.equal(denied.remaining, 0)
  assert.ok(denied.retryAfterMs > 19_000 && denied.retryAfterMs <= 20_000, String(denied.retryAfterMs))
  assert.ok(denied.resetMs > 59_000 && denied.resetMs <= 60_000)
  assert.equal(limiter.size, 1)
  assert.equal(limiter.hit('other').allowed, true)
  assert.equal(limiter.size, 2)
  assert.equal(limiter.reset('k'), true)
  assert.equal(limiter.reset('k'), false)
  assert.equal(limiter.hit('k').allowed, true)
  limiter.clear()
  assert.equal(limiter.size, 0)
  assert.deepEqual([limiter.limit, limiter.windowMs, limiter.algorithm, limiter.name], [3, 60_000, 'gcra', null])
  // A denied hit spends nothing; cost 0 asks without spending.
  assert.equal(limiter.hit('c', 3).allowed, true)
  assert.equal(limiter.hit('c', 1).allowed, false)
  assert.equal(limiter.hit('c', 0).allowed, true)
})

test('refund gives back only what was spent', () => {
  const limiter = new RateLimiter({ limit: 2, windowMs: 60_000, algorithm: 'fixed-window' })
  limiter.hit('k', 2)
  assert.equal(limiter.hit('k').allowed, false)
  limiter.refund('k')
  assert.equal(limiter.hit('k').allowed, true)
  limiter.refund('k', 2)
  limiter.refund('k', 2)
  assert.equal(limiter.peek('k').remaining, 1, 'never more than the budget')
  limiter.refund('never-seen')
  assert.equal(limiter.size, 1)
})

test('each algorithm limits a burst to the limit', () => {
  for (const algorithm of ['gcra', 'fixed-window', 'sliding-window']) {
    const limiter = new RateLimiter({ limit: 5, windowMs: 10_000, algorithm })
    const allowed = Array.from({ length: 8 }, () => limiter.hit('k').allowed).filter(Boolean).length
    assert.equal(allowed, 5, algorithm)
    assert.equal(limiter.algorithm, algorithm)
  }
})

test('GCRA gives capacity back continuously', async () => {
  const limiter = new RateLimiter({ limit: 4, windowMs: 200 })
  for (let i = 0; i < 4; i++) assert.equal(limiter.hit('k').allowed, true)
  const denied = limiter.hit('k')
  assert.equal(denied.allowed, false)
  assert.ok(denied.retryAfterMs <= 50)
  await new Promise((resolve) => setTimeout(resolve, denied.retryAfterMs + 5))
  assert.equal(limiter.hit('k').allowed, true)
  assert.equal(limiter.hit('k').allowed, false)
})

test('named limiters share one table across worker threads, exactly', async () => {
  // A window of ~46 days: one unit comes back every ~400 s, so however slowly the workers run
  // (a loaded CI machine), no capacity is regained during the test and exactly 10,000 pass.
  // (With a 1-hour window one unit came back every 360 ms, and a slow run admitted 10,002.)
  const options = { limit: 10_000, windowMs: 4_000_000_000, name: `exact-${process.pid}` }
  const here = new RateLimiter(options)
  const source = `
    const { parentPort, workerData } = require('node:worker_threads')
    const { RateLimiter } = require('rampart')
    const limiter = new RateLimiter(workerData)
    let allowed = 0
    for (let i = 0; i < 5000; i++) if (limiter.hit('hot').allowed) allowed++
    parentPort.postMessage(allowed)
  `
  const counts = await Promise.all(
    [1, 2, 3, 4].map(
      () =>
        new Promise((resolve, reject) => {
          const worker = new Worker(source, { eval: true, workerData: options })
          worker.once('message', resolve)
          worker.once('error', reject)
        }),
    ),
  )
  assert.equal(counts.reduce((a, b) => a + b, 0), 10_000, `admitted ${counts.join(' + ')}`)
  assert.equal(here.peek('hot').allowed, false, 'the main thread sees the same table')
  assert.equal(here.name, options.name)
  // Same name with other options is refused; unnamed limiters are independent.
  assert.throws(() => new RateLimiter({ ...options, limit: 5 }), VALUE)
  assert.equal(new RateLimiter({ limit: 10_000, windowMs: 3_600_000 }).hit('hot').allowed, true)
  here.clear()
})

function inWorkers(source, workerData, count = 4) {
  return Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise((resolve, reject) => {
          const worker = new Worker(source, { eval: true, workerData })
          worker.once('message', resolve)
          worker.once('error', reject)
        }),
    ),
  )
}

// Before the fix the clock was read before the shard lock: a thread could apply an older time to
// a state another thread had just advanced, and a denied hit then reported remaining 4294967295.
test('4 worker threads on one hot key: every result stays within the limit (clock read under the lock)', async () => {
  for (const algorithm of ['gcra', 'fixed-window', 'sliding-window']) {
    const options = { limit: 3, windowMs: 2, algorithm, name: `clock-${algorithm}-${process.pid}` }
    const source = `
      const { parentPort, workerData } = require('node:worker_threads')
      const { RateLimiter } = require('rampart')
      const limiter = new RateLimiter(workerData)
      let bad = 0
      for (let i = 0; i < 100000; i++) {
        const r = limiter.hit('hot')
        if (r.remaining > 3 || !(r.retryAfterMs >= 0 && r.retryAfterMs <= 4) || (!r.allowed && r.retryAfterMs === 0)) bad++
      }
      parentPort.postMessage(bad)
    `
    const bad = await inWorkers(source, options)
    assert.deepEqual(bad, [0, 0, 0, 0], algorithm)
    new RateLimiter(options).clear()
  }
})

// Before the fix a key first seen while the table was full was inserted again after the sweep
// even when another thread had inserted it meanwhile: \`size\` drifted above the keys held.
test('4 worker threads inserting the same keys into a full table: size stays exact', async () => {
  const options = { limit: 1_000, windowMs: 1, maxKeys: 64, name: `full-${process.pid}` }
  const here = new RateLimiter(options)
  const source = `
    const { parentPort, workerData } = require('node:worker_threads')
    const { RateLimiter } = require('rampart')
    const limiter = new RateLimiter(workerData)
    const start = Date.now()
    // Expired entries fill the table; new keys then find it full, sweep (at most once a second)
    // and insert, racing with the other threads on the same keys.
    let round = 0
    while (Date.now() - start < 2500) {
      for (let i = 0; i < 64; i++) limiter.hit('k' + ((round * 64 + i) % 256))
      round++
    }
    parentPort.postMessage(round)
  `
  await inWorkers(source, options)
  // Let every entry expire, then a sweep of all shards (triggered by a new key on a full table
  // or the incremental sweep) must bring the count to what the table holds: zero live keys.
  await new Promise((resolve) => setTimeout(resolve, 1100))
  for (let i = 0; i < 200; i++) here.hit(`probe-${i}`)
  here.clear()
  assert.equal(here.size, 0, 'clear() subtracts what each shard held: a drifted count stays above zero')
})

test('memory stays bounded under 5M distinct keys; a full table is counted, and fails closed', () => {
  const maxKeys = 200_000
  const limiter = new RateLimiter({ limit: 10, windowMs: 3_600_000, maxKeys })
  globalThis.gc?.()
  const before = process.memoryUsage()
  let denied = 0
  for (let i = 0; i < 5_000_000; i++) {
    if (!limiter.hit(`k${i}`).allowed) denied++
  }
  const after = process.memoryUsage()
  const stats = limiter.stats()
  assert.equal(stats.size, maxKeys)
  assert.equal(stats.rejections, 5_000_000 - maxKeys)
  assert.equal(denied, 5_000_000 - maxKeys, 'keys beyond the bound are denied, not given a fresh budget')
  const growthMiB = (after.rss - before.rss) / 2 ** 20
  assert.ok(growthMiB < 64, `RSS grew ${growthMiB.toFixed(1)} MiB for ${maxKeys} keys`)
  // Tracked keys keep working.
  assert.equal(limiter.hit('k0').allowed, true)

  const evicting = new RateLimiter({ limit: 10, windowMs: 3_600_000, maxKeys: 1000, whenFull: 'evict-oldest' })
  for (let i = 0; i < 5000; i++) evicting.hit(`k${i}`)
  const e = evicting.stats()
  assert.equal(e.size, 1000)
  assert.equal(e.evictions + e.rejections, 4000)
  assert.ok(e.evictions > 0)
})

test('bad input gives documented errors, never a crash', () => {
  for (const bad of [undefined, null, 42, 'x', []]) assert.throws(() => new RateLimiter(bad), TYPE)
  assert.throws(() => new RateLimiter({ windowMs: 1000 }), TYPE)
  assert.throws(() => new RateLimiter({ limit: 5 }), TYPE)
  for (const limit of [0, -1, 1.5, 2 ** 32, NaN, Infinity]) assert.throws(() => new RateLimiter({ limit, windowMs: 1000 }), RANGE)
  for (const windowMs of [0, -5, 0.5, 2 ** 32]) assert.throws(() => new RateLimiter({ limit: 1, windowMs }), RANGE)
  assert.throws(() => new RateLimiter({ limit: '5', windowMs: 1000 }), TYPE)
  assert.throws(() => new RateLimiter({ limit: 1, windowMs: 1000, algorithm: 'leaky' }), VALUE)
  assert.throws(() => new RateLimiter({ limit: 1, windowMs: 1000, algorithm: 7 }), TYPE)
  assert.throws(() => new RateLimiter({ limit: 1, windowMs: 1000, whenFull: 'drop' }), VALUE)
  assert.throws(() => new RateLimiter({ limit: 1, windowMs: 1000, maxKeys: 0 }), RANGE)
  assert.throws(() => new RateLimiter({ limit: 1, windowMs: 1000, name: '' }), RANGE)
  assert.throws(() => new RateLimiter({ limit: 1, windowMs: 1000, name: 5 }), TYPE)
  const limiter = new RateLimiter({ limit: 3, windowMs: 1000 })
  for (const method of ['hit', 'peek', 'reset', 'refund']) {
    for (const key of [undefined, null, 42, {}, Buffer.from('k'), Symbol('k')]) assert.throws(() => limiter[method](key), TYPE, method)
    assert.throws(() => limiter[method]('k'.repeat(1025)), RANGE, method)
  }
  assert.equal(limiter.hit('k'.repeat(1024)).allowed, true)
  assert.equal(limiter.hit('').allowed, true)
  for (const cost of [-1, 4, 1.5, NaN]) assert.throws(() => limiter.hit('k', cost), RANGE)
  assert.throws(() => limiter.hit('k', '1'), TYPE)
  assert.throws(() => limiter.peek('k', 99), RANGE)
  // Key length is in UTF-8 bytes, also when the last character does not fit whole.
  assert.equal(limiter.hit(`${'k'.repeat(1022)}é`).allowed, true, '1024 bytes')
  for (const key of [`${'k'.repeat(1023)}é`, `${'k'.repeat(1024)}€`, `${'k'.repeat(1021)}😀`, '€'.repeat(342)]) {
    assert.throws(() => limiter.hit(key), RANGE)
  }
  // The internals behind hit/peek: bound functions and one scratch buffer per thread.
  const [hit, peek] = limiter._bound()
  for (const key of [undefined, 42, {}, Symbol('k')]) assert.throws(() => hit(key), TYPE)
  assert.throws(() => peek('k', 99), RANGE)
  assert.equal(typeof hit('fresh2'), 'boolean')
  assert.equal(native._rateLimitScratch(), native._rateLimitScratch(), 'the same ArrayBuffer every time')
  assert.equal(native._rateLimitScratch().byteLength, 24)
})
