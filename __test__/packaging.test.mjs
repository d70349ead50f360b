// The published layout works for a user: `npm pack` the root package and the linux-x64-gnu
// binary package, install both into a scratch Express app that has no Rust toolchain on its
// PATH, then load rampart from CommonJS and from an ES module and hash a password over HTTP.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'
import { after, test } from 'node:test'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const PLATFORM = 'linux-x64-gnu'
process.report.excludeNetwork = true // getReport() can otherwise stall on reverse DNS
const supported = process.platform === 'linux' && process.arch === 'x64' && Boolean(process.report.getReport().header.glibcVersionRuntime)

const work = mkdtempSync(join(tmpdir(), 'rampart-pack-'))
after(() => rmSync(work, { recursive: true, force: true }))

/** PATH without any directory that holds cargo or rustc, and no Rust variables. */
function envWithoutRust() {
  const hasRust = (dir) => {
    try {
      return readdirSync(dir).some((name) => name === 'cargo' || name === 'rustc')
    } catch {
      return false
    }
  }
  const env = { ...process.env, npm_config_loglevel: 'error', npm_config_fund: 'false', npm_config_audit: 'false' }
  for (const key of Object.keys(env)) {
    if (/^(CARGO|RUSTUP|RUSTC|npm_package_|npm_lifecycle_)/.test(key)) delete env[key]
  }
  env.PATH = (process.env.PATH ?? '').split(delimiter).filter((dir) => dir && !hasRust(dir)).join(delimiter)
  return env
}

function npm(args, cwd, env = process.env) {
  return execFileSync('npm', args, { cwd, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim()
}

const APP_CJS = `
const express = require('express')
const { hashPassword, verifyPassword, needsRehash } = require('rampart')
const { rateLimit, requireJwt } = require('rampart/express')
const { JwtSigner, JwtVerifier } = require('rampart')
const { pinoRedaction } = require('rampart/logging')
const secret = Buffer.alloc(32, 7)
const token = new JwtSigner({ algorithm: 'HS256', key: secret }).sign({ sub: '1' })
const app = express()
app.use(express.json())
app.use(rateLimit({ limit: 10, windowMs: 60_000 }))
app.get('/me', requireJwt({ verifier: new JwtVerifier({ algorithms: ['HS256'], key: secret }) }), (req, res) => res.json(req.auth))
app.post('/register', async (req, res) => {
  const hash = await hashPassword(req.body.password)
  res.json({ hash, ok: await verifyPassword(hash, req.body.password), rehash: needsRehash(hash) })
})
const server = app.listen(0, '127.0.0.1', async () => {
  const { port } = server.address()
  const response = await fetch('http://127.0.0.1:' + port + '/register', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ password: 'correct horse' }),
  })
  const me = await (await fetch('http://127.0.0.1:' + port + '/me', { headers: { authorization: 'Bearer ' + token } })).json()
  const redacted = pinoRedaction().streamWrite('{"password":"x"}\\n')
  console.log(JSON.stringify({ ...(await response.json()), rateLimit: response.headers.get('ratelimit'), sub: me.sub, redacted, binding: require.resolve('rampart-${PLATFORM}') }))
  server.close()
})
`

const APP_MJS = `
import { JwtSigner, JwtVerifier, Keyring, RateLimiter, Redactor, hashPassword, verifyPassword } from 'rampart'
import { LoginGuard } from 'rampart/express'
import rampart from 'rampart'
const dynamic = await import('rampart')
const hash = await hashPassword('correct horse')
const ring = new Keyring({ keys: [{ id: 'k', key: Keyring.generateKey() }], primary: 'k' })
console.log(JSON.stringify({
  hash,
  ok: await verifyPassword(hash, 'correct horse'),
  limited: new RateLimiter({ limit: 1, windowMs: 1000 }).hit('k').allowed && typeof LoginGuard === 'function',
  decrypted: ring.decryptString(ring.encryptToString('at rest', { context: 'c' }), { context: 'c' }).toString(),
  same: rampart.hashPassword === hashPassword && dynamic.verifyPassword === verifyPassword,
  jwt: new JwtVerifier({ algorithms: ['HS256'], key: 'k'.repeat(32) }).verify(new JwtSigner({ algorithm: 'HS256', key: 'k'.repeat(32) }).sign({ sub: '2' })).sub,
  redacted: new Redactor().redact({ token: 't' }).token,
}))
`

test('packed tarballs install and load without a Rust toolchain (CommonJS and ESM)', { skip: !supported && `only ${PLATFORM} is packaged so far`, timeout: 300_000 }, () => {
  const tarballs = join(work, 'tarballs')
  mkdirSync(tarballs)
  // The platform package gets the freshly built binary, in a copy so the repo stays clean.
  const platformDir = join(work, PLATFORM)
  mkdirSync(platformDir)
  const binary = `rampart.${PLATFORM}.node`
  copyFileSync(join(root, 'npm', PLATFORM, 'package.json'), join(platformDir, 'package.json'))
  copyFileSync(join(root, binary), join(platformDir, binary))
  npm(['pack', '--pack-destination', tarballs], platformDir)
  npm(['pack', '--pack-destination', tarballs], root)
  const packed = readdirSync(tarballs).sort()
  assert.deepEqual(packed, [`rampart-0.1.0.tgz`, `rampart-${PLATFORM}-0.1.0.tgz`])
  const rootFiles = execFileSync('tar', ['-tzf', join(tarballs, 'rampart-0.1.0.tgz')], { encoding: 'utf8' })
  assert.ok(!rootFiles.includes('.node'), 'the root package ships no binary of its own')
  assert.match(rootFiles, /package\/index\.d\.ts/)

  const app = join(work, 'app')
  mkdirSync(app)
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'scratch-app', private: true, version: '1.0.0' }))
  writeFileSync(join(app, 'server.cjs'), APP_CJS)
  writeFileSync(join(app, 'main.mjs'), APP_MJS)
  const env = envWithoutRust()
  assert.throws(() => execFileSync('cargo', ['--version'], { env, stdio: 'ignore' }), 'cargo must not be reachable')
  npm(['install', 'express@5', ...packed.map((name) => join(tarballs, name))], app, env)

  const cjs = JSON.parse(execFileSync(process.execPath, ['server.cjs'], { cwd: app, env, encoding: 'utf8' }))
  assert.match(cjs.hash, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/)
  assert.equal(cjs.ok, true)
  assert.equal(cjs.rehash, false)
  assert.equal(cjs.rateLimit, '"10-in-1min";r=9;t=6')
  assert.equal(cjs.sub, '1')
  assert.equal(cjs.redacted, '{"password":"[REDACTED]"}\n')
  assert.ok(cjs.binding.startsWith(join(app, 'node_modules')), 'the binary came from the installed platform package')

  const esm = JSON.parse(execFileSync(process.execPath, ['main.mjs'], { cwd: app, env, encoding: 'utf8' }))
  assert.match(esm.hash, /^\$argon2id\$/)
  assert.equal(esm.ok, true)
  assert.equal(esm.decrypted, 'at rest')
  assert.equal(esm.limited, true)
  assert.equal(esm.same, true)
  assert.equal(esm.jwt, '2')
  assert.equal(esm.redacted, '[REDACTED]')
})
