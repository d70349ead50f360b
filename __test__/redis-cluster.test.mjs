// RedisRateLimiter on a real 3-master Redis Cluster (redis-cli --cluster create on loopback),
// through ioredis's Cluster and node-redis's createCluster: batches of many keys are split by
// hash slot (no CROSSSLOT), limits hold, NOSCRIPT on any node recovers, every key has a TTL.
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'

import Redis from 'ioredis'
import { createCluster } from 'redis'
import { RedisRateLimiter } from 'rampart'

import { rawCommand, startCluster } from './helpers/redis-server.mjs'

let cluster
before(async () => {
  cluster = await startCluster()
})
after(async () => {
  await cluster?.stop()
})

const CLIENTS = {
  ioredis: async () => {
    const client = new Redis.Cluster(cluster.nodes, { lazyConnect: true })
    client.on('error', () => {})
    await client.connect()
    return { client, close: () => client.disconnect() }
  },
  'node-redis': async () => {
    const client = createCluster({ rootNodes: cluster.nodes.map(({ host, port }) => ({ url: `redis://${host}:${port}` })) })
    client.on('error', () => {})
    await client.connect()
    return { client, close: () => client.close?.() ?? client.quit() }
  },
}

/** Keys with their PTTL, over every master. */
async function scanAll(pattern) {
  const found = []
  for (const { port } of cluster.nodes) {
    for (const key of await rawCommand(port, ['KEYS', pattern])) {
      const pttl = await rawCommand(port, ['PTTL', key])
      found.push({ key, pttl, port })
    }
  }
  return found
}

for (const [name, connect] of Object.entries(CLIENTS)) {
  describe(`Redis Cluster through ${name}`, () => {
    test('many keys in one tick: split by slot, every limit holds, no CROSSSLOT', async (t) => {
      const { client, close } = await connect()
      t.after(close)
      const prefix = `rc-${name}:`
      const limiter = new RedisRateLimiter({ client, limit: 3, windowMs: 60_000, prefix, timeoutMs: 5000, onStoreError: 'fail-closed' })
      const outages = []
      limiter.on('outage', (error) => outages.push(error))
      const keys = Array.from({ length: 200 }, (_, i) => `user:${i}`)
      const results = await Promise.all(keys.flatMap((key) => [1, 2, 3, 4, 5].map(() => limiter.hit(key))))
      assert.deepEqual(outages, [])
      for (let i = 0; i < keys.length; i++) {
        assert.deepEqual(results.slice(5 * i, 5 * i + 5).map((r) => r.allowed), [true, true, true, false, false], keys[i])
      }
      const stored = await scanAll(`${prefix}*`)
      assert.equal(stored.length, keys.length)
      assert.equal(new Set(stored.map((s) => s.port)).size, 3, 'the keys are spread over the three masters')
      for (const { key, pttl } of stored) assert.ok(pttl > 0, `${key} has no TTL`)
      assert.ok(limiter.stats().scriptCalls < 1000 / 2, `${limiter.stats().scriptCalls} script calls for 1000 hits`)
    })

    test('NOSCRIPT on every node (SCRIPT FLUSH): reloaded, no error', async (t) => {
      const { client, close } = await connect()
      t.after(close)
      const limiter = new RedisRateLimiter({ client, limit: 5, windowMs: 60_000, prefix: `rc-ns-${name}:`, timeoutMs: 5000 })
      const outages = []
      limiter.on('outage', (error) => outages.push(error))
      const keys = Array.from({ length: 30 }, (_, i) => `k${i}`)
      await Promise.all(keys.map((k) => limiter.hit(k)))
      for (const { port } of cluster.nodes) await rawCommand(port, ['SCRIPT', 'FLUSH'])
      const results = await Promise.all(keys.map((k) => limiter.hit(k)))
      assert.deepEqual(results.map((r) => r.remaining), keys.map(() => 3))
      assert.deepEqual(outages, [])
    })
  })
}
