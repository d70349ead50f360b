// Redis-backed limits over real HTTP (Express 4 and 5) and a real redis-server: rampart's
// rateLimit with a RedisRateLimiter store, two app instances sharing one limit, a store that
// rejects, and RampartRedisStore inside express-rate-limit, with ioredis and node-redis.
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { createRequire } from 'node:module'
import { after, before, describe, test } from 'node:test'

import { rateLimit as erlRateLimit } from 'express-rate-limit'
import Redis from 'ioredis'
import { createClient } from 'redis'
import { RampartRedisStore, rateLimit } from 'rampart/express'
import { RedisRateLimiter } from 'rampart/redis'

import { keysWithTtl, startRedis } from './helpers/redis-server.mjs'

const require = createRequire(import.meta.url)
const EXPRESS = { 'express 4': require('express4'), 'express 5': require('express') }
let prefixes = 0
const prefix = () => `rx${process.pid}-${++prefixes}:`

let server
const clients = {}
const servers = []
before(async () => {
  server = await startRedis()
  clients.ioredis = new Redis({ port: server.port, host: server.host, lazyConnect: true })
  await clients.ioredis.connect()
  clients['node-redis'] = createClient({ url: server.url })
  clients['node-redis'].on('error', () => {})
  await clients['node-redis'].connect()
})
after(async () => {
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))))
  const keys = await keysWithTtl(clients.ioredis, 'rx*')
  clients.ioredis.disconnect()
  await clients['node-redis'].quit()
  await server.stop()
  assert.ok(keys.length > 0)
  assert.deepEqual(
    keys.filter((k) => k.pttl < 0),
    [],
  )
})

async function serve(express, setup) {
  const app = express()
  setup(app)
  const listener = app.listen(0, '127.0.0.1')
  await once(listener, 'listening')
  servers.push(listener)
  const base = `http://127.0.0.1:${listener.address().port}`
  return (path = '/', init = {}) => fetch(base + path, init)
}

for (const [label, express] of Object.entries(EXPRESS)) {
  for (const clientName of ['ioredis', 'node-redis']) {
    describe(`${label}, ${clientName}`, () => {
      test('rateLimit with a RedisRateLimiter store: two app instances share one limit', async () => {
        const shared = prefix()
        const make = () => new RedisRateLimiter({ client: clients[clientName], limit: 3, windowMs: 60_000, prefix: shared })
        const setup = (app) => {
          app.use(rateLimit({ store: make() }))
          app.get('/', (req, res) => res.json(req.rateLimit))
        }
        const a = await serve(express, setup)
        const b = await serve(express, setup)
        const first = await a()
        assert.equal(first.status, 200)
        assert.equal(first.headers.get('ratelimit-policy'), '"3-in-1min";q=3;w=60', "limit and window come from the store")
        assert.equal(first.headers.get('ratelimit'), '"3-in-1min";r=2;t=20')
        assert.equal((await b()).status, 200)
        assert.equal((await a()).status, 200)
        const denied = await b()
        assert.equal(denied.status, 429)
        assert.equal(denied.headers.get('retry-after'), '20')
        assert.equal((await a()).status, 429)
      })

      test('express-rate-limit with RampartRedisStore: shared between two instances', async () => {
        const shared = prefix()
        const setup = (app) => {
          app.use(
            erlRateLimit({
              limit: 2,
              windowMs: 60_000,
              store: new RampartRedisStore({ client: clients[clientName], prefix: shared }),
              standardHeaders: 'draft-7',
              legacyHeaders: false,
            }),
          )
          app.get('/', (req, res) => res.send('ok'))
        }
        const a = await serve(express, setup)
        const b = await serve(express, setup)
        assert.equal((await a()).headers.get('ratelimit'), 'limit=2, remaining=1, reset=60')
        assert.equal((await b()).headers.get('ratelimit'), 'limit=2, remaining=0, reset=60')
        const denied = await a()
        assert.equal(denied.status, 429)
        assert.equal(denied.headers.get('retry-after'), '60')
      })
    })
  }
}

test('rateLimit: a store that rejects becomes next(error), never an unhandled rejection', async () => {
  const errors = []
  const store = { limit: 5, hit: () => Promise.reject(new Error('store down')), peek: () => Promise.reject(new Error('store down')), reset() {} }
  const get = await serve(EXPRESS['express 5'], (app) => {
    app.use(rateLimit({ store }))
    app.get('/', (req, res) => res.send('ok'))
    app.use((error, req, res, next) => {
      errors.push(error.message)
      res.status(500).send('error')
    })
  })
  const getCounted = await serve(EXPRESS['express 5'], (app) => {
    app.use(rateLimit({ store, skipSuccessfulRequests: true }))
    app.get('/', (req, res) => res.send('ok'))
    app.use((error, req, res, next) => {
      errors.push(error.message)
      res.status(500).send('error')
    })
  })
  assert.equal((await get()).status, 500)
  assert.equal((await getCounted()).status, 500)
  assert.deepEqual(errors, ['store down', 'store down'])
})

test('rateLimit with skipSuccessfulRequests over Redis: only failures count', async () => {
  const store = new RedisRateLimiter({ client: clients.ioredis, limit: 2, windowMs: 60_000, prefix: prefix() })
  const get = await serve(EXPRESS['express 5'], (app) => {
    app.use(rateLimit({ store, skipSuccessfulRequests: true }))
    app.get('/ok', (req, res) => res.send('ok'))
    app.get('/bad', (req, res) => res.status(401).send('no'))
  })
  for (let i = 0; i < 5; i++) assert.equal((await get('/ok')).status, 200)
  assert.equal((await get('/bad')).status, 401)
  assert.equal((await get('/bad')).status, 401)
  // The second failure is charged when its response finishes; wait for it to reach Redis.
  for (let i = 0; i < 50 && (await store.peek('127.0.0.1')).allowed; i++) await new Promise((resolve) => setTimeout(resolve, 10))
  assert.equal((await get('/ok')).status, 429)
})

test('RampartRedisStore: the Store contract, and bad clients', async () => {
  assert.throws(() => new RampartRedisStore({ client: {} }), { code: 'ERR_INVALID_ARG_TYPE' })
  assert.throws(() => new RampartRedisStore(), { code: 'ERR_INVALID_ARG_TYPE' })
  const store = new RampartRedisStore({ client: clients['node-redis'], prefix: prefix() })
  store.init({ windowMs: 1000 })
  assert.equal(store.localKeys, false)
  assert.equal(await store.get('a'), undefined)
  assert.equal((await store.increment('a')).totalHits, 1)
  const second = await store.increment('a')
  assert.equal(second.totalHits, 2)
  assert.ok(second.resetTime.getTime() - Date.now() <= 1000)
  await store.decrement('a')
  assert.equal((await store.get('a')).totalHits, 1)
  await store.decrement('a')
  await store.decrement('a')
  assert.equal(await store.get('a'), undefined, 'never below zero')
  await store.increment('b')
  await store.resetKey('b')
  assert.equal(await store.get('b'), undefined)
})
