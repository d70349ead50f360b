// Where the time goes behind Express (`npm run bench -- http-profile`): each route of the HTTP
// benchmark (benchmark/http.mjs) served by its own server process under `--cpu-prof`, loaded by
// autocannon for a few seconds, then the V8 CPU profile's self time is sorted into categories
// (Express and Node's HTTP, pino, express-rate-limit, jsonwebtoken, rampart's JavaScript, the
// native addon, GC) and divided by the requests served: microseconds of server CPU per request.
// The difference between a protected route and the bare one is that stack's per-request
// overhead. Profiling slows everything a little (sampling every 100 us), the same for every route.
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

import { QUICK, machine, publish, version } from './common.mjs'

const http = fileURLToPath(new URL('./http.mjs', import.meta.url))
const ROOT = new URL('../', import.meta.url).href
const SECRET = 'bench-secret-0123456789abcdef0123456789abcdef'
const ROUTES = [
  ['no protection (baseline)', '/bare'],
  ['express-rate-limit + jsonwebtoken + pino redact', '/peers'],
  ['rampart rateLimit + requireJwt + pinoRedaction', '/rampart'],
]

// In a profile a native function has no script URL, only its name. An addon call made through
// N-API gets no node of its own: V8 counts its time in the JavaScript function that called it
// (checked: a loop of verifier.verify() profiles as `verify js/jwt.js`, with no `_verify`).
const SOCKET = new Set(['writev', 'writeBuffer', 'writeUtf8String', 'writeLatin1String', 'writeAsciiString', 'writeUcs2String', 'readStart', 'readStop', 'shutdown', 'close', 'setNoDelay'])

/** The category of a profile node, from its script URL and function name. */
function category(frame) {
  const { url, functionName: name } = frame
  if (name === '(garbage collector)') return 'GC'
  if (name === '(program)' || name === '(idle)' || name === '(root)') return null
  if (url.includes('/node_modules/express-rate-limit/')) return 'express-rate-limit'
  if (url.includes('/node_modules/jsonwebtoken/') || url.includes('/node_modules/jws/') || url.includes('/node_modules/jwa/')) return 'jsonwebtoken'
  if (url.includes('/node_modules/pino') || url.includes('/node_modules/@pinojs/') || url.includes('/node_modules/fast-redact/') || url.includes('/node_modules/sonic-boom/')) return 'pino'
  if (url.startsWith(`${ROOT}js/`) || url === `${ROOT}index.js` || /\/node_modules\/rampart\/(js\/|index\.js)/.test(url)) return 'rampart (JavaScript)'
  // Native functions (the addon's, Node's socket bindings, V8 builtins) have no script URL.
  if (url === '' && SOCKET.has(name)) return 'socket writes (the writev system call; varies with batching)'
  if (url === '' && name !== '' && !name.startsWith('(')) return 'other native (V8 builtins, Node bindings)'
  if (url.includes('/node_modules/')) return 'Express, router and other modules'
  if (url.startsWith('node:')) return "Node's HTTP, streams and timers"
  return 'other'
}

function summarize(profile) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const self = new Map()
  const functions = new Map()
  const interval = new Map()
  // timeDeltas[i] is the time before samples[i]; attribute it to that sample's node.
  profile.samples.forEach((id, i) => interval.set(id, (interval.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)))
  for (const [id, us] of interval) {
    const frame = byId.get(id).callFrame
    const name = category(frame)
    if (name === null) continue
    self.set(name, (self.get(name) ?? 0) + us)
    const fn = `${frame.functionName || '(anonymous)'} ${frame.url.split('/').slice(-2).join('/')}:${frame.lineNumber + 1}`
    functions.set(fn, (functions.get(fn) ?? 0) + us)
  }
  return { self, functions }
}

async function profileRoute(path, token, seconds) {
  const dir = mkdtempSync(join(tmpdir(), 'rampart-prof-'))
  const child = spawn(process.execPath, ['--cpu-prof', `--cpu-prof-dir=${dir}`, http, '--server', '--exit-on-sigterm'], { stdio: ['ignore', 'pipe', 'inherit'] })
  try {
    const [line] = await once(child.stdout, 'data')
    const { default: autocannon } = await import('autocannon')
    const url = `http://127.0.0.1:${Number(String(line).trim())}${path}`
    await autocannon({ url, connections: 50, duration: 1, headers: { authorization: `Bearer ${token}` } }) // warm-up
    const r = await autocannon({ url, connections: 50, duration: seconds, headers: { authorization: `Bearer ${token}` } })
    if (r.non2xx || r.errors) throw new Error(`${path}: ${r.non2xx} non-2xx answers, ${r.errors} errors`)
    child.kill('SIGTERM')
    await once(child, 'exit')
    const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'))
    if (!file) throw new Error(`${path}: the server wrote no CPU profile`)
    return { ...summarize(JSON.parse(readFileSync(join(dir, file), 'utf8'))), requests: r.requests.total }
  } finally {
    child.kill('SIGKILL')
    rmSync(dir, { recursive: true, force: true })
  }
}

const { JwtSigner } = await import('rampart')
const token = new JwtSigner({ algorithm: 'HS256', key: SECRET, issuer: 'api', audience: 'app', expiresIn: 3600 }).sign({ sub: '42', role: 'user' })
const seconds = QUICK ? 2 : 6
// One profile of a route is noisy (the overhead ratio ranged 0.45x-0.66x over three runs on a
// quiet machine): several interleaved rounds, and the median of each number.
const ROUNDS = QUICK ? 1 : 5
const rounds = []
for (let round = 0; round < ROUNDS; round++) {
  const results = []
  for (const [label, path] of round % 2 ? [...ROUTES].reverse() : ROUTES) {
    results[ROUTES.findIndex((r) => r[1] === path)] = { label, ...(await profileRoute(path, token, seconds)) }
    process.stderr.write('.')
  }
  rounds.push(results)
}
process.stderr.write('\n')

if (process.argv.includes('--detail')) {
  for (const r of rounds.at(-1)) {
    console.log(`\n${r.label}: top functions by self time (us per request, last round)`)
    for (const [fn, us] of [...r.functions].sort((a, b) => b[1] - a[1]).slice(0, Number(process.env.TOP ?? 25))) console.log(`  ${(us / r.requests).toFixed(2).padStart(7)}  ${fn}`)
  }
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}
const categories = [...new Set(rounds.flat().flatMap((r) => [...r.self.keys()]))].sort()
const perRequest = (r, name) => (r.self.get(name) ?? 0) / r.requests
const total = (r) => categories.reduce((sum, name) => sum + perRequest(r, name), 0)
// Route i's median over the rounds of f(round's result for route i, round's baseline).
const med = (i, f) => median(rounds.map((results) => f(results[i], results[0])))
const cell = (us) => us.toFixed(1)
const stackIndexes = [1, 2]
const rows = categories.map(
  (name) =>
    `| ${name} | ${ROUTES.map((_, i) => cell(med(i, (r) => perRequest(r, name)))).join(' | ')} | ${stackIndexes.map((i) => cell(med(i, (r, bare) => perRequest(r, name) - perRequest(bare, name)))).join(' | ')} |`,
)
rows.push(
  `| **all server CPU** | ${ROUTES.map((_, i) => `**${cell(med(i, total))}**`).join(' | ')} | ${stackIndexes.map((i) => `**${cell(med(i, (r, bare) => total(r) - total(bare)))}**`).join(' | ')} |`,
)
const ratios = rounds.map(([bare, peers, ours]) => (total(ours) - total(bare)) / (total(peers) - total(bare)))
const ratio = median(ratios)
const versions = ['express', 'express-rate-limit', 'jsonwebtoken', 'pino', 'autocannon'].map((n) => `${n} ${version(n)}`).join(', ')
publish(
  'http-profile',
  [
    `Measured ${machine()}; ${versions}; each route in its own server process under --cpu-prof, 50 connections for ${seconds} s after a 1 s warm-up, ${ROUNDS} interleaved round(s); server CPU microseconds per request by where the profile's self time fell, median over the rounds. rampart's overhead over the bare route against the peer stack's, per round: ${ratios.map((r) => `${r.toFixed(2)}x`).join(', ')}; median **${ratio.toFixed(2)}x** (goal: at most 0.5x).`,
    '',
    `| category | ${ROUTES.map((r) => r[0]).join(' | ')} | ${stackIndexes.map((i) => `overhead: ${ROUTES[i][0]}`).join(' | ')} |`,
    `| --- | ${ROUTES.map(() => '---:').join(' | ')} | ${stackIndexes.map(() => '---:').join(' | ')} |`,
    ...rows,
  ].join('\n'),
  // No chart entry: the chart shows speed ratios of whole operations; this is a breakdown.
)
console.log(`rampart's per-request overhead is ${ratio.toFixed(2)}x the peer stack's, median of ${ratios.map((r) => r.toFixed(2)).join(', ')} (goal: at most 0.5x)`)
