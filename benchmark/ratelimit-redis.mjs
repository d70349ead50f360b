// Redis-backed rate limiting: rampart's RedisRateLimiter against rate-limiter-flexible's
// RateLimiterRedis and express-rate-limit's store rate-limit-redis (what express-rate-limit calls
// per request: `increment`), all over ioredis to one local redis-server that this script starts
// (loopback, no persistence). Measured: hits/s and p99 latency with 1 and with 64 hits in flight
// (10,000 keys round-robin, limit never reached), the cost of a hit on a denied key, and Redis
// commands per 1,000 hits (INFO commandstats: the commands clients sent, and all commands
// including those run inside scripts). Each library runs in its own process, rounds interleaved,
// medians reported.
import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'

import { startRedis } from '../__test__/helpers/redis-server.mjs'
import { QUICK, machine, median, publish, version } from './common.mjs'

const self = fileURLToPath(import.meta.url)
const ROUNDS = QUICK ? 1 : 3
const RUN_MS = QUICK ? 700 : 2000
const LIBS = ['rampart', 'rate-limiter-flexible', 'rate-limit-redis']
const WINDOW_MS = 60_000
const BIG = 100_000 // a large real-world limit, never reached here

async function makeLimiter(lib, client, prefix, limit) {
  if (lib === 'rampart') {
    const { RedisRateLimiter } = await import('rampart')
    const limiter = new RedisRateLimiter({ client, limit, windowMs: WINDOW_MS, prefix, timeoutMs: 5000, onStoreError: 'fail-closed' })
    return async (key) => (await limiter.hit(key)).allowed
  }
  if (lib === 'rate-limiter-flexible') {
    const { RateLimiterRedis } = await import('rate-limiter-flexible')
    const limiter = new RateLimiterRedis({ storeClient: client, points: limit, duration: WINDOW_MS / 1000, keyPrefix: prefix })
    return (key) =>
      limiter.consume(key).then(
        () => true,
        (res) => {
          if (res instanceof Error) throw res
          return false
        },
      )
  }
  const { RedisStore } = await import('rate-limit-redis')
  const store = new RedisStore({ sendCommand: (command, ...args) => client.call(command, ...args), prefix })
  store.init({ windowMs: WINDOW_MS })
  // express-rate-limit's decision: totalHits against its limit.
  return async (key) => (await store.increment(key)).totalHits <= limit
}

/** `inflight` loops of awaited hits for RUN_MS; hits/s and p99 latency (us). */
async function measure(hit, inflight, keys) {
  const latencies = []
  const start = performance.now()
  const end = start + RUN_MS
  await Promise.all(
    Array.from({ length: inflight }, async (_, w) => {
      let i = w * 997
      while (performance.now() < end) {
        const t = performance.now()
        await hit(keys[i++ % keys.length])
        latencies.push(performance.now() - t)
      }
    }),
  )
  const elapsed = performance.now() - start
  latencies.sort((a, b) => a - b)
  return { rate: (latencies.length * 1000) / elapsed, p99: latencies[Math.floor(latencies.length * 0.99)] * 1000, count: latencies.length }
}

async function commandStats(client) {
  const text = await client.info('commandstats')
  const calls = {}
  for (const match of text.matchAll(/cmdstat_([^:]+):calls=(\d+)/g)) calls[match[1]] = Number(match[2])
  return calls
}

/** Child: one library, one round; prints JSON. */
async function child(lib, port) {
  const { default: Redis } = await import('ioredis')
  const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true })
  await client.connect()
  const keys = Array.from({ length: 10_000 }, (_, i) => `198.51.${(i >> 8) & 255}.${i & 255}`)
  const prefix = `bench-${lib}-${process.pid}:`
  const hit = await makeLimiter(lib, client, prefix, BIG)
  const denyHit = await makeLimiter(lib, client, `${prefix}deny:`, 1)
  await measure(hit, 8, keys) // warm-up (scripts loaded, JIT)
  const result = {}
  await client.config('RESETSTAT')
  result.one = await measure(hit, 1, keys)
  const stats = await commandStats(client)
  const sent = (stats.evalsha ?? 0) + (stats.eval ?? 0) + (stats['script|load'] ?? 0)
  const all = Object.entries(stats)
    .filter(([name]) => !['config|resetstat', 'info'].includes(name))
    .reduce((sum, [, n]) => sum + n, 0)
  result.sentPer1000 = (sent * 1000) / result.one.count
  result.allPer1000 = (all * 1000) / result.one.count
  await client.config('RESETSTAT')
  result.many = await measure(hit, 64, keys)
  const manyStats = await commandStats(client)
  result.sentPer1000Many = (((manyStats.evalsha ?? 0) + (manyStats.eval ?? 0)) * 1000) / result.many.count
  // A denied key: its limit spent once, then hit again and again by one client.
  await denyHit('flood')
  await denyHit('flood')
  result.denied = await measure(denyHit, 1, ['flood'])
  client.disconnect()
  console.log(JSON.stringify(result))
}

async function main() {
  const server = await startRedis()
  const samples = new Map()
  try {
    for (let round = 0; round < ROUNDS; round++) {
      for (const lib of LIBS) {
        const out = execFileSync(process.execPath, [self, '--child', lib, String(server.port)], { encoding: 'utf8' })
        samples.set(lib, [...(samples.get(lib) ?? []), JSON.parse(out)])
      }
      process.stderr.write('.')
    }
  } finally {
    await server.stop()
  }
  process.stderr.write('\n')
  const med = (lib, pick) => median(samples.get(lib).map(pick))
  const redisVersion = execFileSync('redis-server', ['--version'], { encoding: 'utf8' }).match(/v=([\d.]+)/)?.[1]
  const fmt = (n) => Math.round(n).toLocaleString('en-US')
  const rows = LIBS.map((lib) => {
    const ver = lib === 'rampart' ? version('rampart') : version(lib)
    return (
      `| ${lib === 'rate-limit-redis' ? 'express-rate-limit + rate-limit-redis' : lib} | ${ver} | ` +
      `${fmt(med(lib, (s) => s.one.rate))} | ${fmt(med(lib, (s) => s.one.p99))} | ` +
      `${fmt(med(lib, (s) => s.many.rate))} | ${fmt(med(lib, (s) => s.many.p99))} | ` +
      `${fmt(med(lib, (s) => s.denied.rate))} | ${med(lib, (s) => 1e6 / s.denied.rate).toFixed(1)} | ` +
      `${fmt(med(lib, (s) => s.sentPer1000))} / ${fmt(med(lib, (s) => s.sentPer1000Many))} | ${fmt(med(lib, (s) => s.allPer1000))} |`
    )
  })
  const peers = LIBS.slice(1)
  const best = (pick) => Math.max(...peers.map((lib) => med(lib, pick)))
  const oneRatio = med('rampart', (s) => s.one.rate) / best((s) => s.one.rate)
  const manyRatio = med('rampart', (s) => s.many.rate) / best((s) => s.many.rate)
  const deniedUs = med('rampart', (s) => 1e6 / s.denied.rate)
  const roundTripUs = med('rampart', (s) => 1e6 / s.one.rate)
  publish(
    'ratelimit-redis',
    [
      `Measured ${machine()}; redis-server ${redisVersion} on loopback (started by the benchmark), ioredis ${version('ioredis')}; ` +
        `${ROUNDS} round(s) of ${RUN_MS} ms per case, each library in its own process, medians. 10,000 keys round-robin, limit never reached; ` +
        'the denied case hits one key whose limit is spent. express-rate-limit + rate-limit-redis is measured at the store (`increment`, what the middleware awaits per request).',
      '',
      '| library | version | hits/s, 1 in flight | p99 (us), 1 in flight | hits/s, 64 in flight | p99 (us), 64 in flight | denied key: hits/s | denied key: us/hit | commands sent per 1000 hits (1 / 64 in flight) | all Redis commands per 1000 hits, 1 in flight (incl. inside scripts) |',
      '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
      ...rows,
      '',
      `rampart vs the fastest peer: ${oneRatio.toFixed(2)}x with 1 in flight (goal >= 1), ${manyRatio.toFixed(2)}x with 64 in flight (goal >= 1.5); ` +
        `a denied key costs ${deniedUs.toFixed(1)} us, ${(deniedUs / roundTripUs).toFixed(3)} of rampart's own round trip (${roundTripUs.toFixed(0)} us; goal <= 0.1).`,
    ].join('\n'),
    [
      { label: 'Redis rate limit, 1 in flight (hits/s)', ratio: oneRatio },
      { label: 'Redis rate limit, 64 in flight (hits/s)', ratio: manyRatio },
    ],
  )
}

const argv = process.argv.slice(2)
if (argv[0] === '--child') await child(argv[1], Number(argv[2]))
else await main()
