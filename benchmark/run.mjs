// `npm run bench [-- --quick] [-- --write-docs] [-- password|aead ...]`: runs each suite in its
// own process so one suite's memory and JIT state do not affect the next; with --write-docs (old
// name: --write-readme) the tables in docs/benchmarks.md and benchmark/chart.svg are updated.
import { execFileSync } from 'node:child_process'

const suites = ['password', 'aead', 'jwt', 'ratelimit', 'ratelimit-redis', 'redact', 'http', 'http-profile', 'totp']
const flags = process.argv.slice(2).filter((a) => a.startsWith('--'))
const chosen = process.argv.slice(2).filter((a) => !a.startsWith('--'))
for (const suite of chosen.length ? chosen : suites) {
  if (!suites.includes(suite)) throw new Error(`unknown suite ${suite}; choose from ${suites.join(', ')}`)
  console.log(`\n## ${suite}\n`)
  execFileSync(process.execPath, ['--expose-gc', new URL(`./${suite}.mjs`, import.meta.url).pathname, ...flags], {
    stdio: 'inherit',
  })
}
if (flags.includes('--write-docs') || flags.includes('--write-readme')) execFileSync(process.execPath, [new URL('./chart.mjs', import.meta.url).pathname], { stdio: 'inherit' })
