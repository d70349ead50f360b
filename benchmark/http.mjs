// HTTP: the example API's protected-route stack over loopback (autocannon), built with rampart
// versus the same stack from the usual libraries, in one run:
//   rampart: rateLimit + requireJwt (HS256, key parsed once) + pino with pinoRedaction
//   peers:   express-rate-limit + jsonwebtoken.verify with a KeyObject + pino with redact paths
// Each stack logs one JSON line per request (with the request headers) to a no-op stream. Before
// timing, each route must accept a valid token and refuse a missing or tampered one.
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'

import { QUICK, machine, median, publish, version } from './common.mjs'

const self = fileURLToPath(import.meta.url)
const SECRET = 'bench-secret-0123456789abcdef0123456789abcdef'
const ROUTES = [
  ['no protection (baseline)', '/bare'],
  ['express-rate-limit + jsonwebtoken + pino redact', '/peers'],
  ['rampart rateLimit + requireJwt + pinoRedaction', '/rampart'],
]

async function server() {
  const { createSecretKey } = await import('node:crypto')
  const { default: express } = await import('express')
  const { rateLimit: erl } = await import('express-rate-limit')
  const { default: jsonwebtoken } = await import('jsonwebtoken')
  const { default: pino } = await import('pino')
  const { JwtVerifier } = await import('rampart')
  const { rateLimit, requireJwt } = await import('rampart/express')
  const { pinoRedaction } = await import('rampart/logging')

  const sink = { write() {} }
  const limits = { limit: 1_000_000_000, windowMs: 60_000 }
  const rampartLog = pino({ hooks: pinoRedaction() }, sink)
  const peerLog = pino({ redact: ['req.headers.authorization', 'req.headers.cookie'] }, sink)
  const key = createSecretKey(Buffer.from(SECRET))
  const verifier = new JwtVerifier({ algorithms: ['HS256'], key: SECRET, issuer: 'api', audience: 'app' })
  const logRequest = (logger) => (req, res, next) => {
    res.on('finish', () => logger.info({ req: { method: req.method, url: req.url, headers: req.headers }, res: { statusCode: res.statusCode } }))
    next()
  }
  const peerJwt = (req, res, next) => {
    const match = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')
    if (!match) return res.status(401).json({ error: 'unauthorized' })
    try {
      req.auth = jsonwebtoken.verify(match[1], key, { algorithms: ['HS256'], issuer: 'api', audience: 'app' })
      next()
    } catch {
      res.status(401).json({ error: 'invalid_token' })
    }
  }
  const me = (req, res) => res.json({ sub: req.auth?.sub ?? null })

  const app = express()
  app.get('/bare', me)
  app.get('/peers', logRequest(peerLog), erl({ ...limits, standardHeaders: 'draft-8', legacyHeaders: false }), peerJwt, me)
  app.get('/rampart', logRequest(rampartLog), rateLimit(limits), requireJwt({ verifier }), me)
  const listener = app.listen(0, '127.0.0.1', () => console.log(listener.address().port))
}

async function main() {
  const { default: autocannon } = await import('autocannon')
  const { JwtSigner } = await import('rampart')
  const token = new JwtSigner({ algorithm: 'HS256', key: SECRET, issuer: 'api', audience: 'app', expiresIn: 3600 }).sign({ sub: '42', role: 'user' })
  const child = spawn(process.execPath, [self, '--server'], { stdio: ['ignore', 'pipe', 'inherit'] })
  const [line] = await once(child.stdout, 'data')
  const base = `http://127.0.0.1:${Number(String(line).trim())}`
  try {
    // Sanity: the protected routes accept the token and refuse a missing or tampered one.
    const tampered = `${token.slice(0, -3)}${token.endsWith('AAA') ? 'BBB' : 'AAA'}`
    for (const [label, path] of ROUTES.slice(1)) {
      const status = async (auth) => (await fetch(`${base}${path}`, { headers: auth ? { authorization: auth } : {} })).status
      const got = [await status(`Bearer ${token}`), await status(undefined), await status(`Bearer ${tampered}`)]
      if (got.join() !== '200,401,401') throw new Error(`${label}: expected 200,401,401, got ${got}`)
    }
    const results = new Map()
    const duration = QUICK ? 2 : 5
    for (let round = 0; round < (QUICK ? 1 : 3); round++) {
      for (const [label, path] of round % 2 ? [...ROUTES].reverse() : ROUTES) {
        const r = await autocannon({ url: `${base}${path}`, connections: 50, duration, headers: { authorization: `Bearer ${token}` } })
        if (r.non2xx || r.errors) throw new Error(`${label}: ${r.non2xx} non-2xx answers, ${r.errors} errors`)
        results.set(label, [...(results.get(label) ?? []), { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99 }])
      }
      process.stderr.write('.')
    }
    process.stderr.write('\n')
    const rps = (label) => median(results.get(label).map((r) => r.rps))
    const peers = rps(ROUTES[1][0])
    const rows = ROUTES.map(([label]) => {
      const runs = results.get(label)
      return `| ${label} | ${Math.round(rps(label)).toLocaleString('en-US')} | ${median(runs.map((r) => r.p50))} | ${median(runs.map((r) => r.p99))} | ${(rps(label) / peers).toFixed(2)} |`
    })
    const versions = ['express', 'express-rate-limit', 'jsonwebtoken', 'pino', 'autocannon'].map((n) => `${n} ${version(n)}`).join(', ')
    publish(
      'http',
      [
        `Measured ${machine()}; ${versions}; 50 connections, ${duration} s per route, median of ${QUICK ? 1 : 3} interleaved rounds; server and load generator share the 2 cores.`,
        '',
        '| stack (GET with a Bearer token, one log line per request) | req/s | p50 ms | p99 ms | vs the peer stack |',
        '| --- | ---: | ---: | ---: | ---: |',
        ...rows,
      ].join('\n'),
      [{ label: 'HTTP protected route (req/s)', ratio: rps(ROUTES[2][0]) / peers }],
    )
  } finally {
    child.kill()
  }
}

// http-profile.mjs stops the server with SIGTERM and needs a normal exit to get the CPU profile.
if (process.argv.includes('--exit-on-sigterm')) process.on('SIGTERM', () => process.exit(0))
if (process.argv.includes('--server')) await server()
else await main()
