// Rate limiting: rampart's native RateLimiter against express-rate-limit's MemoryStore and
// rate-limiter-flexible's RateLimiterMemory, per hit and per key of memory; then an HTTP run of
// an Express route behind each middleware (autocannon on loopback).
//
// Every (library, scenario) pair runs in a fresh child process so that heap and JIT state do not
// leak between them; rounds are interleaved and medians reported. The limit is never reached,
// so every library does its full "count this hit" work.
import { execFileSync, spawn } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'

import { QUICK, machine, median, publish, version } from './common.mjs'

const self = fileURLToPath(import.meta.url)
const ROUNDS = QUICK ? 1 : 3
const LIBS = ['rampart', 'express-rate-limit', 'rate-limiter-flexible']
const SCENARIOS = ['hot', 'roundRobin', 'inserts']
const WINDOW_MS = 60_000

async function makeHit(lib) {
  if (lib === 'rampart') {
    const { RateLimiter } = await import('rampart')
    const limiter = new RateLimiter({ limit: 1_000_000_000, windowMs: WINDOW_MS, maxKeys: 2_000_000 })
    return { hit: (key) => limiter.hit(key), sync: true, tableBytes: () => limiter.stats().memoryBytes }
  }
  if (lib === 'express-rate-limit') {
    const { MemoryStore } = await import('express-rate-limit')
    const store = new MemoryStore()
    store.init({ windowMs: WINDOW_MS })
    return { hit: (key) => store.increment(key), sync: false, shutdown: () => store.shutdown() }
  }
  const { RateLimiterMemory } = await import('rate-limiter-flexible')
  const limiter = new RateLimiterMemory({ points: 1_000_000_000, duration: WINDOW_MS / 1000 })
  return { hit: (key) => limiter.consume(key), sync: false }
}

/** Child: one scenario of one library; prints JSON. */
async function child(lib, scenario) {
  const { hit, sync, shutdown, tableBytes } = await makeHit(lib)
  const run = async (keys, count) => {
    const start = process.hrtime.bigint()
    for (let i = 0; i < count; i++) {
      const r = hit(keys[i % keys.length])
      if (!sync) await r
    }
    return Number(process.hrtime.bigint() - start) / count
  }
  const result = {}
  if (scenario === 'hot') {
    await run(['203.0.113.7'], 50_000)
    result.nsPerOp = await run(['203.0.113.7'], QUICK ? 200_000 : 1_000_000)
  } else if (scenario === 'roundRobin') {
    const keys = Array.from({ length: 100_000 }, (_, i) => `10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`)
    await run(keys, 100_000)
    result.nsPerOp = await run(keys, QUICK ? 300_000 : 1_000_000)
  } else {
    const keys = Array.from({ length: 1_000_000 }, (_, i) => `u:${i}:198.51.${(i >> 8) & 255}.${i & 255}`)
    globalThis.gc()
    const before = process.memoryUsage()
    result.nsPerOp = await run(keys, keys.length)
    globalThis.gc()
    const after = process.memoryUsage()
    result.rssMiB = after.rss / 2 ** 20
    result.heapMiB = after.heapUsed / 2 ** 20
    result.rssGrowthMiB = (after.rss - before.rss) / 2 ** 20
    result.heapGrowthMiB = (after.heapUsed - before.heapUsed) / 2 ** 20
    // RSS covers both the JS heap and native memory, so it compares the stores fairly.
    result.bytesPerKey = (after.rss - before.rss) / keys.length
    // rampart can also say exactly what its table holds, apart from allocator and JS noise.
    result.tableBytesPerKey = tableBytes ? tableBytes() / keys.length : NaN
  }
  shutdown?.()
  console.log(JSON.stringify(result))
  process.exit(0)
}

async function httpRun() {
  const { default: autocannon } = await import('autocannon')
  const server = spawn(process.execPath, [self, '--server'], { stdio: ['ignore', 'pipe', 'inherit'] })
  const [line] = await once(server.stdout, 'data')
  const port = Number(String(line).trim())
  const rows = []
  const routes = [
    ['bare (no limiter)', '/bare'],
    ['express-rate-limit (MemoryStore)', '/erl'],
    ['rampart rateLimit', '/rampart'],
  ]
  const results = new Map()
  for (let round = 0; round < (QUICK ? 1 : 2); round++) {
    for (const [label, path] of routes) {
      const r = await autocannon({ url: `http://127.0.0.1:${port}${path}`, connections: 50, duration: QUICK ? 2 : 5 })
      const acc = results.get(label) ?? []
      acc.push({ rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, non2xx: r.non2xx, errors: r.errors })
      results.set(label, acc)
    }
  }
  server.kill()
  for (const [label] of routes) {
    const runs = results.get(label)
    rows.push(
      `| ${label} | ${Math.round(median(runs.map((r) => r.rps))).toLocaleString('en-US')} | ${median(runs.map((r) => r.p50))} | ` +
        `${median(runs.map((r) => r.p99))} | ${runs.reduce((a, r) => a + r.non2xx, 0)} | ${runs.reduce((a, r) => a + r.errors, 0)} |`,
    )
  }
  return rows
}

async function server() {
  const { default: express } = await import('express')
  const { rateLimit: erl } = await import('express-rate-limit')
  const { rateLimit } = await import('rampart/express')
  const app = express()
  const options = { limit: 1_000_000_000, windowMs: WINDOW_MS }
  app.get('/bare', (req, res) => res.send('ok'))
  app.get('/erl', erl({ ...options, standardHeaders: 'draft-8', legacyHeaders: false }), (req, res) => res.send('ok'))
  app.get('/rampart', rateLimit(options), (req, res) => res.send('ok'))
  const listener = app.listen(0, '127.0.0.1', () => console.log(listener.address().port))
}

async function main() {
  const samples = new Map()
  for (let round = 0; round < ROUNDS; round++) {
    for (const scenario of SCENARIOS) {
      for (const lib of LIBS) {
        const out = execFileSync(process.execPath, ['--expose-gc', self, '--child', lib, scenario], { encoding: 'utf8' })
        const key = `${lib}|${scenario}`
        samples.set(key, [...(samples.get(key) ?? []), JSON.parse(out)])
      }
    }
    process.stderr.write('.')
  }
  process.stderr.write('\n')
  const med = (lib, scenario, field) => median(samples.get(`${lib}|${scenario}`).map((s) => s[field]))
  const versions = { rampart: version('rampart'), 'express-rate-limit': version('express-rate-limit'), 'rate-limiter-flexible': version('rate-limiter-flexible') }
  const rows = LIBS.map((lib) => {
    const ratio = (scenario) => (med('express-rate-limit', scenario, 'nsPerOp') / med(lib, scenario, 'nsPerOp')).toFixed(2)
    return (
      `| ${lib} | ${versions[lib]} | ${Math.round(med(lib, 'hot', 'nsPerOp'))} | ${Math.round(med(lib, 'roundRobin', 'nsPerOp'))} | ` +
      `${Math.round(med(lib, 'inserts', 'nsPerOp'))} | ${ratio('hot')} / ${ratio('roundRobin')} / ${ratio('inserts')} | ` +
      `${med(lib, 'inserts', 'rssGrowthMiB').toFixed(0)} | ${med(lib, 'inserts', 'heapGrowthMiB').toFixed(0)} | ` +
      `${Math.round(med(lib, 'inserts', 'bytesPerKey'))} | ${lib === 'rampart' ? Math.round(med(lib, 'inserts', 'tableBytesPerKey')) : 'n/a'} |`
    )
  })
  const http = await httpRun()
  publish(
    'ratelimit',
    [
      `Measured ${machine()}; ${ROUNDS} round(s), each scenario in a fresh process, medians; window 60 s, limit never reached.`,
      'express-rate-limit and rate-limiter-flexible calls are awaited (their APIs return promises); rampart is synchronous.',
      '',
      '| library | version | hot key (ns/hit) | 100k keys round-robin (ns/hit) | 1M new keys (ns/insert) | speed vs express-rate-limit (hot / 100k / 1M) | RSS growth for 1M keys (MiB) | JS heap growth (MiB) | RSS bytes per key | table bytes per key |',
      '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
      ...rows,
      '',
      `Express ${version('express')} on loopback, autocannon ${version('autocannon')} (50 connections, ${QUICK ? 2 : 5} s per route, median of ${QUICK ? 1 : 2}); server and load generator share the 2 cores:`,
      '',
      '| route | req/s | p50 (ms) | p99 (ms) | non-2xx | errors |',
      '| --- | ---: | ---: | ---: | ---: | ---: |',
      ...http,
    ].join('\n'),
    [
      ...SCENARIOS.map((scenario) => ({
        label: `rate limit ${{ hot: 'hot key', roundRobin: '100k keys', inserts: '1M new keys' }[scenario]} (ns/hit)`,
        ratio: Math.min(...LIBS.slice(1).map((lib) => med(lib, scenario, 'nsPerOp'))) / med('rampart', scenario, 'nsPerOp'),
      })),
      {
        label: 'rate limit memory per key',
        ratio: Math.min(...LIBS.slice(1).map((lib) => med(lib, 'inserts', 'bytesPerKey'))) / med('rampart', 'inserts', 'bytesPerKey'),
      },
    ],
  )
}

const argv = process.argv.slice(2)
if (argv[0] === '--child') await child(argv[1], argv[2])
else if (argv[0] === '--server') await server()
else await main()
