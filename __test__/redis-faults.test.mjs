// RedisRateLimiter when Redis fails: SIGKILL under load and restart on the same port (each
// policy, both clients), a slow Redis (DEBUG SLEEP) against timeoutMs, and fake servers that
// answer garbage or nothing. Every call must settle, by the chosen policy; the outage is reported
// once; the limiter recovers by itself. No timing is asserted except "settles at all" bounds far
// above timeoutMs (a hung promise would fail them).
import assert from 'node:assert/strict'
import { createServer } from 'node:net'
import { after, before, describe, test } from 'node:test'

import Redis from 'ioredis'
import { createClient } from 'redis'
import { RedisRateLimiter } from 'rampart'

import { keysWithTtl, startRedis } from './helpers/redis-server.mjs'

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
const SETTLE_BOUND_MS = 3000 // far above timeoutMs: only a hang can exceed it
let prefixes = 0
const prefix = () => `rf${process.pid}-${++prefixes}:`

let server
before(async () => {
  server = await startRedis()
})
after(async () => {
  await server.restart() // if a test left it stopped
  const client = new Redis({ port: server.port, host: server.host, lazyConnect: true })
  await client.connect()
  const keys = await keysWithTtl(client, 'rf*')
  client.disconnect()
  await server.stop()
  assert.deepEqual(
    keys.filter((k) => k.pttl < 0),
    [],
    'keys without a TTL',
  )
})

async function connect(kind, port = server.port) {
  if (kind === 'ioredis') {
    const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true, retryStrategy: () => 50, maxRetriesPerRequest: 1 })
    client.on('error', () => {})
    await client.connect()
    return { client, close: () => client.disconnect() }
  }
  const client = createClient({ url: `redis://127.0.0.1:${port}`, socket: { reconnectStrategy: () => 50, connectTimeout: 500 } })
  client.on('error', () => {})
  await client.connect()
  return { client, close: () => client.destroy?.() ?? client.disconnect() }
}

/** Runs `workers` loops of hits until `stop()`; records each call's result and how long it took. */
function load(limiter, workers, key) {
  const calls = []
  let running = true
  const loops = Array.from({ length: workers }, async (_, w) => {
    while (running) {
      const start = performance.now()
      const result = await limiter.hit(`${key}-${w % 4}`)
      calls.push({ at: start, ms: performance.now() - start, result })
      await sleep(2)
    }
  })
  return {
    calls,
    async stop() {
      running = false
      await Promise.all(loops)
    },
  }
}

for (const kind of ['ioredis', 'node-redis']) {
  describe(`Redis killed under load and restarted (${kind})`, () => {
    for (const policy of ['local', 'fail-closed', 'fail-open']) {
      test(`onStoreError: '${policy}'`, async () => {
        const { client, close } = await connect(kind)
        const limiter = new RedisRateLimiter({ client, limit: 1000, windowMs: 60_000, prefix: prefix(), onStoreError: policy, timeoutMs: 50 })
        const outages = []
        let recovered = 0
        limiter.on('outage', (error) => outages.push(error))
        limiter.on('recover', () => recovered++)
        const run = load(limiter, 16, 'k')
        await sleep(150)
        await server.kill('SIGKILL')
        const killedAt = performance.now()
        await sleep(400)
        const restartingAt = performance.now()
        await server.restart()
        const restartedAt = performance.now()
        const deadline = restartedAt + 5000
        while (!limiter.stats().redisUp && performance.now() < deadline) await sleep(20)
        const recoveredAfter = performance.now() - restartedAt
        await sleep(100)
        await run.stop()
        // On a loaded machine a call right after the restart (NOSCRIPT, then EVAL) can exceed
        // timeoutMs and count as a second, short outage; it too must end by itself.
        while (!limiter.stats().redisUp && performance.now() < deadline) await limiter.hit('after')
        close()

        assert.equal(limiter.stats().redisUp, true, 'recovered by itself')
        assert.ok(recovered >= 1)
        assert.equal(outages.length, recovered, 'each outage reported once, and each one ended')
        assert.ok(outages.length <= 3, `${outages.length} outages reported`)
        assert.equal(limiter.stats().outages, outages.length)
        assert.ok(limiter.stats().storeErrors >= outages.length)
        assert.match(outages[0].code, /^ERR_RAMPART_REDIS/)
        const slowest = Math.max(...run.calls.map((c) => c.ms))
        assert.ok(slowest < SETTLE_BOUND_MS, `a call took ${slowest} ms`)
        // Calls made while Redis was surely down: a call (a probe) that starts less than
        // timeoutMs before the restart may be answered by the new server, and so may one made
        // while restart() waits for it to accept connections.
        const during = run.calls.filter((c) => c.at > killedAt + 60 && c.at < restartingAt - 60)
        assert.ok(during.length > 0)
        for (const { result } of during) {
          assert.deepEqual(Object.keys(result), ['allowed', 'limit', 'remaining', 'resetMs', 'retryAfterMs'])
          if (policy === 'fail-open') assert.equal(result.allowed, true)
          if (policy === 'fail-closed') assert.deepEqual([result.allowed, result.retryAfterMs], [false, 1000])
          if (policy === 'local') assert.equal(result.allowed, true, 'the local limiter counts (limit not reached)')
        }
        const stats = limiter.stats()
        assert.ok(stats.fallbackAnswers >= during.length)
        // Fallback answers are immediate, not one timeout each: only probes and the first batches wait.
        assert.ok(stats.scriptCalls < run.calls.length)
        process.stderr.write(`# ${kind} ${policy}: ${run.calls.length} calls, recovered ${Math.round(recoveredAfter)} ms after the restart\n`)
      })
    }
  })
}

test("'local' keeps limiting during an outage", async () => {
  const { client, close } = await connect('ioredis')
  const limiter = new RedisRateLimiter({ client, limit: 5, windowMs: 60_000, prefix: prefix(), onStoreError: 'local', timeoutMs: 50 })
  limiter.on('outage', () => {})
  await server.kill('SIGKILL')
  try {
    const results = []
    for (let i = 0; i < 8; i++) results.push(await limiter.hit('k'))
    assert.deepEqual(results.map((r) => r.allowed), [true, true, true, true, true, false, false, false])
    assert.equal(await limiter.reset('k'), true, 'the local limiter held it')
    assert.equal((await limiter.peek('k')).remaining, 4)
  } finally {
    await server.restart()
    close()
  }
})

test('a denied key stays denied locally through an outage, whatever the policy', async () => {
  const { client, close } = await connect('ioredis')
  const limiter = new RedisRateLimiter({ client, limit: 2, windowMs: 60_000, prefix: prefix(), onStoreError: 'fail-open', timeoutMs: 50 })
  limiter.on('outage', () => {})
  await limiter.hit('k', 2)
  assert.equal((await limiter.hit('k')).allowed, false)
  await server.kill('SIGKILL')
  try {
    assert.equal((await limiter.hit('k')).allowed, false, 'from the local cache')
    assert.equal((await limiter.hit('other')).allowed, true, 'fail-open')
  } finally {
    await server.restart()
    close()
  }
})

test('slow Redis (DEBUG SLEEP) against timeoutMs: answered by the policy, then recovered', async (t) => {
  const { client, close } = await connect('ioredis')
  t.after(close)
  const limiter = new RedisRateLimiter({ client, limit: 10, windowMs: 60_000, prefix: prefix(), onStoreError: 'fail-closed', timeoutMs: 50 })
  const outages = []
  limiter.on('outage', (error) => outages.push(error))
  assert.equal((await limiter.hit('k')).allowed, true)
  const sleeping = server.command('DEBUG', 'SLEEP', '1')
  await sleep(50)
  const start = performance.now()
  const results = await Promise.all(Array.from({ length: 20 }, () => limiter.hit('k')))
  const took = performance.now() - start
  assert.ok(took < 900, `settled only after ${took} ms, with Redis asleep for 1000 ms`)
  for (const result of results) assert.deepEqual([result.allowed, result.retryAfterMs], [false, 1000])
  assert.deepEqual(
    outages.map((e) => e.code),
    ['ERR_RAMPART_REDIS_TIMEOUT'],
  )
  await sleeping
  const deadline = performance.now() + 5000
  let result
  // (Another key: the timed-out calls reached Redis after its sleep and spent k's budget.)
  do {
    await sleep(50)
    result = await limiter.hit('k2')
  } while (!limiter.stats().redisUp && performance.now() < deadline)
  assert.equal(limiter.stats().redisUp, true)
  assert.equal(result.allowed, true)
})

/** A TCP server on a free loopback port that answers each data chunk with `reply(chunk)` (or nothing). */
async function fakeServer(reply) {
  const sockets = new Set()
  const fake = createServer((socket) => {
    sockets.add(socket)
    socket.on('error', () => {})
    socket.on('data', (chunk) => {
      const answer = reply(chunk)
      if (answer !== undefined) socket.write(answer)
    })
  })
  await new Promise((resolve) => fake.listen(0, '127.0.0.1', resolve))
  return {
    port: fake.address().port,
    close: () => {
      for (const s of sockets) s.destroy()
      return new Promise((resolve) => fake.close(resolve))
    },
  }
}

describe('a server that is not a working Redis', () => {
  const FAKES = {
    'answers +OK to everything': () => '+OK\r\n',
    'answers an array of strings': () => '*4\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n',
    'answers integers too large for a double': () => '*4\r\n:1\r\n:99999999999999999999\r\n:0\r\n:0\r\n',
    'answers protocol garbage': () => Buffer.from([0, 0xff, 0x13, 0x37, 0x0d, 0x0a, 0x24, 0x2d, 0x35]),
    'answers nothing': () => undefined,
    'answers an error': () => '-ERR unknown command\r\n',
  }
  for (const kind of ['ioredis', 'node-redis']) {
    for (const [name, reply] of Object.entries(FAKES)) {
      test(`${kind}: ${name}`, async (t) => {
        const fake = await fakeServer(reply)
        let client
        t.after(async () => {
          if (kind === 'ioredis') client.disconnect()
          else await client.destroy?.()
          await fake.close()
        })
        if (kind === 'ioredis') {
          client = new Redis({ port: fake.port, host: '127.0.0.1', enableReadyCheck: false, retryStrategy: () => 50, maxRetriesPerRequest: 1 })
          client.on('error', () => {})
        } else {
          client = createClient({ url: `redis://127.0.0.1:${fake.port}`, socket: { reconnectStrategy: () => 50, connectTimeout: 200 } })
          client.on('error', () => {})
          client.connect().catch(() => {})
        }
        await sleep(100)
        const limiter = new RedisRateLimiter({ client, limit: 3, windowMs: 60_000, prefix: prefix(), onStoreError: 'fail-closed', timeoutMs: 50 })
        const outages = []
        limiter.on('outage', (error) => outages.push(error))
        const start = performance.now()
        const results = await Promise.all([
          limiter.hit('a'),
          limiter.peek('b'),
          limiter.refund('c'),
          limiter.reset('d'),
          limiter.hit('e', 2),
        ])
        assert.ok(performance.now() - start < SETTLE_BOUND_MS)
        assert.deepEqual(results[0], { allowed: false, limit: 3, remaining: 0, resetMs: 1000, retryAfterMs: 1000 })
        assert.equal(results[2], undefined)
        assert.equal(results[3], false)
        assert.equal(outages.length, 1)
        assert.match(outages[0].code, /^ERR_RAMPART_REDIS(_TIMEOUT|_REPLY)?$/)
        assert.ok(!outages[0].message.includes('"a"'))
      })
    }
  }
})

test('a key of another Redis type under the prefix: that call follows the policy, the rest work', async (t) => {
  const { client, close } = await connect('ioredis')
  t.after(close)
  const p = prefix()
  await client.hset(`${p}{taken}`, 'field', 'value')
  await client.pexpire(`${p}{taken}`, 60_000)
  const limiter = new RedisRateLimiter({ client, limit: 3, windowMs: 60_000, prefix: p, onStoreError: 'fail-closed' })
  const outages = []
  limiter.on('outage', (error) => outages.push(error))
  const [taken, free] = await Promise.all([limiter.hit('taken'), limiter.hit('free')])
  assert.equal(taken.allowed, false)
  assert.equal(free.allowed, true)
  assert.deepEqual(outages.map((e) => e.code), ['ERR_RAMPART_REDIS_REPLY'])
  assert.equal(await client.hget(`${p}{taken}`, 'field'), 'value', 'never overwritten')
})

test('without an outage listener, one process warning per outage', async () => {
  const { client, close } = await connect('ioredis')
  const limiter = new RedisRateLimiter({ client, limit: 3, windowMs: 60_000, prefix: prefix(), timeoutMs: 50 })
  const warnings = []
  const onWarning = (w) => w.code === 'RAMPART_REDIS_OUTAGE' && warnings.push(w)
  process.on('warning', onWarning)
  await server.kill('SIGKILL')
  try {
    for (let i = 0; i < 5; i++) await limiter.hit('k')
    await sleep(300)
    for (let i = 0; i < 5; i++) await limiter.hit('k')
    await sleep(50)
    assert.equal(warnings.length, 1)
  } finally {
    process.off('warning', onWarning)
    await server.restart()
    close()
  }
})
