// `npm run bench`: password hashing against the libraries people use today, in one run.
//
// argon2id at OWASP's parameters (m=19456 KiB, t=2, p=1, 32-byte tag, 16-byte salt) for rampart,
// node-argon2 and @node-rs/argon2; bcrypt at cost 10 for bcrypt and bcryptjs. For each library
// and operation: single-call latency (median of sequential calls), throughput with 8 calls in
// flight, and the event-loop delay p99 during that load. Rounds are interleaved across
// libraries so that a noisy neighbour hurts all of them alike. Results are ratios against
// rampart; absolute numbers depend on the machine.
//
//   npm run bench                    full run, prints a markdown table
//   npm run bench -- --quick         one short round (smoke test)
//   npm run bench -- --write-docs    also replaces the table in docs/benchmarks.md
import { monitorEventLoopDelay } from 'node:perf_hooks'

import * as nodeRs from '@node-rs/argon2'
import nodeArgon2 from 'argon2'
import bcrypt from 'bcrypt'
import bcryptjs from 'bcryptjs'
import { hashPassword, verifyPassword } from 'rampart'

import { QUICK, machine, median, publish, version } from './common.mjs'

const ROUNDS = QUICK ? 1 : 3
const LOAD_MS = QUICK ? 300 : 1000
const IN_FLIGHT = 8
const PASSWORD = 'correct horse battery staple'
const OWASP = { memoryCost: 19456, timeCost: 2, parallelism: 1 }

const libraries = [
  {
    name: 'rampart',
    version: version('rampart'),
    algorithm: 'argon2id m=19456 t=2 p=1',
    hash: (pw) => hashPassword(pw, OWASP),
    verify: (hash, pw) => verifyPassword(hash, pw),
  },
  {
    name: '@node-rs/argon2',
    version: version('@node-rs/argon2'),
    algorithm: 'argon2id m=19456 t=2 p=1',
    hash: (pw) => nodeRs.hash(pw, { algorithm: nodeRs.Algorithm.Argon2id, ...OWASP, outputLen: 32 }),
    verify: (hash, pw) => nodeRs.verify(hash, pw),
  },
  {
    name: 'argon2 (node-argon2)',
    version: version('argon2'),
    algorithm: 'argon2id m=19456 t=2 p=1',
    hash: (pw) => nodeArgon2.hash(pw, { type: nodeArgon2.argon2id, ...OWASP, hashLength: 32 }),
    verify: (hash, pw) => nodeArgon2.verify(hash, pw),
  },
  {
    name: 'bcrypt',
    version: version('bcrypt'),
    algorithm: 'bcrypt cost 10',
    hash: (pw) => bcrypt.hash(pw, 10),
    verify: (hash, pw) => bcrypt.compare(pw, hash),
  },
  {
    name: 'bcryptjs',
    version: version('bcryptjs'),
    algorithm: 'bcrypt cost 10',
    hash: (pw) => bcryptjs.hash(pw, 10),
    verify: (hash, pw) => bcryptjs.compare(pw, hash),
  },
]

/** Checks that a library really hashes with the stated parameters, then warms it up. */
async function prepare(lib) {
  const hash = await lib.hash(PASSWORD)
  if (lib.algorithm.startsWith('argon2id')) {
    const [, variant, v, params, salt, tag] = hash.split('$')
    const sorted = params.split(',').sort().join(',') // node-argon2 writes m,p,t
    const bytes = (b64) => Buffer.from(b64, 'base64').length
    if (`${variant} ${v} ${sorted} ${bytes(salt)} ${bytes(tag)}` !== 'argon2id v=19 m=19456,p=1,t=2 16 32') {
      throw new Error(`${lib.name} does not hash with the benchmarked parameters`)
    }
  }
  if (lib.algorithm.startsWith('bcrypt') && !/^\$2[aby]\$10\$/.test(hash)) throw new Error(`${lib.name}: not cost 10`)
  if ((await lib.verify(hash, PASSWORD)) !== true || (await lib.verify(hash, 'wrong')) !== false) {
    throw new Error(`${lib.name} does not verify its own hash`)
  }
  lib.sample = hash
}

async function measure(lib, op) {
  const call = op === 'hash' ? () => lib.hash(PASSWORD) : () => lib.verify(lib.sample, PASSWORD)
  // Latency: sequential calls, at least 5 and at least 300 ms worth.
  const latencies = []
  const latencyStart = performance.now()
  while (latencies.length < 5 || performance.now() - latencyStart < (QUICK ? 100 : 300)) {
    const t = performance.now()
    await call()
    latencies.push(performance.now() - t)
  }
  // Throughput and event-loop delay with IN_FLIGHT calls outstanding.
  const histogram = monitorEventLoopDelay({ resolution: 1 })
  histogram.enable()
  let done = 0
  const start = performance.now()
  const deadline = start + LOAD_MS
  const lane = async () => {
    while (performance.now() < deadline) {
      await call()
      done++
    }
  }
  await Promise.all(Array.from({ length: IN_FLIGHT }, lane))
  const elapsed = performance.now() - start
  histogram.disable()
  return {
    latencies,
    opsPerSec: (done * 1000) / elapsed,
    loopP99: histogram.percentile(99) / 1e6 - 1, // minus the 1 ms sampling interval
  }
}

async function main() {
  for (const lib of libraries) await prepare(lib)
  const results = new Map() // "lib|op" -> { latencies, rates, p99s }
  for (let round = 0; round < ROUNDS; round++) {
    // Rotate the order each round.
    const order = libraries.map((_, i) => libraries[(i + round) % libraries.length])
    for (const lib of order) {
      for (const op of ['hash', 'verify']) {
        const key = `${lib.name}|${op}`
        const r = await measure(lib, op)
        const acc = results.get(key) ?? { latencies: [], rates: [], p99s: [] }
        acc.latencies.push(...r.latencies)
        acc.rates.push(r.opsPerSec)
        acc.p99s.push(r.loopP99)
        results.set(key, acc)
      }
      process.stderr.write('.')
    }
  }
  process.stderr.write('\n')

  const rows = []
  for (const op of ['hash', 'verify']) {
    const ours = results.get(`rampart|${op}`)
    const ourLatency = median(ours.latencies)
    const ourRate = median(ours.rates)
    for (const lib of libraries) {
      const r = results.get(`${lib.name}|${op}`)
      const latency = median(r.latencies)
      const rate = median(r.rates)
      const spread = ((Math.max(...r.rates) - Math.min(...r.rates)) / rate) * 100
      rows.push(
        `| ${lib.name} | ${lib.version} | ${lib.algorithm} | ${op} | ${latency.toFixed(1)} | ` +
          `${lib.name === 'rampart' ? '1.00' : (latency / ourLatency).toFixed(2)} | ${rate.toFixed(1)} | ` +
          `${lib.name === 'rampart' ? '1.00' : (ourRate / rate).toFixed(2)} | ${ROUNDS > 1 ? spread.toFixed(1) : '-'} | ` +
          `${Math.max(0, Math.max(...r.p99s)).toFixed(1)} |`,
      )
    }
  }
  const table = [
    `Measured ${machine()}; ${ROUNDS} interleaved round(s), ${IN_FLIGHT} calls in flight for ${LOAD_MS} ms per round.`,
    '',
    '| library | version | algorithm | op | latency median (ms) | their latency ÷ ours | ops/s @8 in flight | our ops/s ÷ theirs | spread % | event-loop p99 (ms) |',
    '| --- | --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows,
  ].join('\n')
  // Against the fastest argon2id peer (bcrypt is a different algorithm and cost).
  const ratios = ['hash', 'verify'].map((op) => {
    const peers = libraries.filter((lib) => lib.name !== 'rampart' && lib.algorithm.startsWith('argon2id'))
    const best = Math.max(...peers.map((lib) => median(results.get(`${lib.name}|${op}`).rates)))
    return { label: `argon2id ${op} (ops/s, 8 in flight)`, ratio: median(results.get(`rampart|${op}`).rates) / best }
  })
  publish('password', table, ratios)
}

await main()
