// Shared by the benchmark suites: machine description, medians, and writing a table into
// docs/benchmarks.md between `<!-- bench:NAME:begin -->` and `<!-- bench:NAME:end -->`.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { cpus, totalmem } from 'node:os'

export const args = new Set(process.argv.slice(2))
export const QUICK = args.has('--quick')
/** `--write-docs` (or its old name `--write-readme`): write the tables into docs/benchmarks.md. */
export const WRITE_DOCS = args.has('--write-docs') || args.has('--write-readme')

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

export function machine() {
  const cpu = cpus()
  return (
    `${new Date().toISOString().slice(0, 10)} on ${cpu[0]?.model.trim() ?? 'unknown CPU'}, ${cpu.length} cores, ` +
    `${Math.round(totalmem() / 2 ** 30)} GiB, ${process.platform} ${process.arch}, Node ${process.version}`
  )
}

export function version(name) {
  const path = name === 'rampart' ? '../package.json' : `../node_modules/${name}/package.json`
  return JSON.parse(readFileSync(new URL(path, import.meta.url), 'utf8')).version
}

/**
 * Prints the table, and with --write-docs replaces the section `name` of docs/benchmarks.md.
 * `ratios` (rampart against the best peer, per case) go to bench-results/NAME.json for
 * benchmark/chart.svg (shown in README.md and docs/benchmarks.md).
 */
export function publish(name, table, ratios = []) {
  console.log(table)
  mkdirSync(new URL('../bench-results/', import.meta.url), { recursive: true })
  writeFileSync(new URL(`../bench-results/${name}.json`, import.meta.url), JSON.stringify({ name, date: machine(), ratios }, null, 1))
  if (!WRITE_DOCS) return
  const begin = `<!-- bench:${name}:begin -->`
  const end = `<!-- bench:${name}:end -->`
  // Most tables live in docs/benchmarks.md; a primitive's own page may hold one (redis, mfa).
  for (const file of ['benchmarks.md', 'redis.md', 'mfa.md']) {
    const page = new URL(`../docs/${file}`, import.meta.url)
    const text = readFileSync(page, 'utf8')
    const from = text.indexOf(begin)
    const to = text.indexOf(end)
    if (from < 0 || to < from) continue
    writeFileSync(page, `${text.slice(0, from + begin.length)}\n${table}\n${text.slice(to)}`)
    console.error(`docs/${file}: ${name} table updated`)
    return
  }
  throw new Error(`no page in docs/ has the ${begin} ... ${end} markers`)
}

/** Calls per second for `fn` over about `ms` milliseconds; async functions are awaited one at a time. */
export async function rate(fn, isAsync, ms) {
  let calls = 0
  let batch = 1
  const start = process.hrtime.bigint()
  const deadline = start + BigInt(ms) * 1_000_000n
  let now = start
  while (now < deadline) {
    for (let i = 0; i < batch; i++) {
      if (isAsync) await fn()
      else fn()
    }
    calls += batch
    batch = Math.min(batch * 2, 256)
    now = process.hrtime.bigint()
  }
  return (calls * 1e9) / Number(now - start)
}
