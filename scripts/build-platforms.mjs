// `npm run build:platforms [-- TARGET ...]`: builds the release binaries that can be built on a
// Linux x86-64 machine, checks them, and puts each in its npm/<platform>/ package under the name
// the loader (index.js) looks for:
//   linux-x64-gnu, linux-arm64-gnu   cargo-zigbuild against glibc 2.28 (checked: no newer symbol)
//   linux-x64-musl, linux-arm64-musl cargo-zigbuild (checked: no glibc symbol, needs only libc.so)
//   darwin-x64, darwin-arm64         cargo-zigbuild (zig compiles ring's C), linked by rust-lld
//                                    against zig's libSystem stub (no Apple SDK needed); minimum
//                                    macOS 10.13 / 11.0
//   win32-x64-msvc, win32-arm64-msvc cargo-zigbuild for x86_64-pc-windows-gnu / aarch64-pc-windows-gnullvm
//                                    (the MSVC toolchain needs Microsoft's SDK, which is not reachable
//                                    here); shipped under the -msvc names, which official Node loads
//   wasm32-wasi                      napi build --target wasm32-wasip1-threads (clang for ring)
// macOS, Windows checks (scripts/binary-checks.mjs): Mach-O/PE format and CPU, only
// napi_register_module_v1 exported, minimum macOS version, system libraries only.
// .github/workflows/release.yml builds macOS and Windows natively for a release instead.
//
// It installs what it needs: the rustup targets, and zig + cargo-zigbuild (from PyPI) in a venv
// under target/. clang must be on PATH for the WebAssembly build (.ci/run installs it).
import { execFileSync } from 'node:child_process'
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, statSync, writeFileSync } from 'node:fs'
import { delimiter, join } from 'node:path'
import { fileURLToPath } from 'node:url'

import { EXPECTED, checkBinary } from './binary-checks.mjs'

const root = fileURLToPath(new URL('..', import.meta.url))
const GLIBC_FLOOR = [2, 28]
const ZIG = { ziglang: '0.17.1', 'cargo-zigbuild': '0.24.1' }

export const LINUX = {
  'linux-x64-gnu': { triple: 'x86_64-unknown-linux-gnu', libc: 'gnu' },
  'linux-arm64-gnu': { triple: 'aarch64-unknown-linux-gnu', libc: 'gnu' },
  'linux-x64-musl': { triple: 'x86_64-unknown-linux-musl', libc: 'musl' },
  'linux-arm64-musl': { triple: 'aarch64-unknown-linux-musl', libc: 'musl' },
}
// macOS and Windows: built with zig, checked by scripts/binary-checks.mjs.
export const CROSS = {
  'darwin-x64': { triple: 'x86_64-apple-darwin', file: 'librampart.dylib' },
  'darwin-arm64': { triple: 'aarch64-apple-darwin', file: 'librampart.dylib' },
  'win32-x64-msvc': { triple: 'x86_64-pc-windows-gnu', file: 'rampart.dll' },
  'win32-arm64-msvc': { triple: 'aarch64-pc-windows-gnullvm', file: 'rampart.dll' },
}
export const ALL = [...Object.keys(LINUX), ...Object.keys(CROSS), 'wasm32-wasi']

function run(command, args, options = {}) {
  console.error(`$ ${command} ${args.join(' ')}`)
  return execFileSync(command, args, { cwd: root, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', ...options })
}

/** A venv with zig and cargo-zigbuild from PyPI; returns the PATH that has them first. */
export function zigPath() {
  const venv = join(root, 'target', 'zig-venv')
  const bin = join(venv, 'bin')
  if (!existsSync(join(bin, 'cargo-zigbuild'))) {
    run('python3', ['-m', 'venv', venv])
    run(join(bin, 'pip'), ['install', '--quiet', ...Object.entries(ZIG).map(([name, v]) => `${name}==${v}`)])
  }
  return `${bin}${delimiter}${process.env.PATH}`
}

function installedTargets() {
  return run('rustup', ['target', 'list', '--installed']).split('\n')
}

function addTarget(triple) {
  if (!installedTargets().includes(triple)) run('rustup', ['target', 'add', triple])
}

/** The highest GLIBC_x.y version a shared object needs, as [x, y] (null if none). */
export function glibcNeeded(file) {
  const versions = [...run('objdump', ['-T', file]).matchAll(/GLIBC_(\d+)\.(\d+)/g)].map((m) => [Number(m[1]), Number(m[2])])
  return versions.sort((a, b) => a[0] - b[0] || a[1] - b[1]).at(-1) ?? null
}

/** Fails unless the binary fits its libc: a glibc floor for gnu, no glibc at all for musl. */
export function checkLibc(file, libc) {
  const needed = glibcNeeded(file)
  const libs = [...run('readelf', ['-d', file]).matchAll(/\(NEEDED\)\s+Shared library: \[(.+?)\]/g)].map((m) => m[1])
  if (libc === 'gnu') {
    if (needed && (needed[0] > GLIBC_FLOOR[0] || (needed[0] === GLIBC_FLOOR[0] && needed[1] > GLIBC_FLOOR[1]))) {
      throw new Error(`${file} needs GLIBC_${needed.join('.')}, above the ${GLIBC_FLOOR.join('.')} floor`)
    }
  } else if (needed || libs.some((lib) => /^libc\.so\.6$|^ld-linux/.test(lib)) || !libs.includes('libc.so')) {
    throw new Error(`${file} is not a musl binary (needs ${libs.join(', ')}${needed ? `, GLIBC_${needed.join('.')}` : ''})`)
  }
  return { needed, libs }
}

const rustflagsVariable = (triple) => `CARGO_TARGET_${triple.toUpperCase().replace(/-/g, '_')}_RUSTFLAGS`

function buildLinux(platform, path) {
  const { triple, libc } = LINUX[platform]
  addTarget(triple)
  const env = { ...process.env, PATH: path }
  // A Node addon is a shared library, so musl must link libc dynamically (napi-rs does the same).
  if (libc === 'musl') env[rustflagsVariable(triple)] = '-C target-feature=-crt-static'
  const zigTarget = libc === 'gnu' ? `${triple}.${GLIBC_FLOOR.join('.')}` : triple
  run('cargo', ['zigbuild', '--release', '--target', zigTarget], { env, stdio: ['ignore', 'inherit', 'inherit'] })
  const built = join(root, 'target', triple, 'release', 'librampart.so')
  const out = join(root, 'npm', platform, `rampart.${platform}.node`)
  copyFileSync(built, out)
  const { needed } = checkLibc(out, libc)
  console.error(`${platform}: ${(statSync(out).size / 2 ** 20).toFixed(1)} MiB${needed ? `, needs GLIBC_${needed.join('.')}` : ''}`)
}

/**
 * What a Windows GNU build links with. napi-build insists on `-lnode` for *-windows-gnu (it checks
 * LIBNODE_PATH for a file named libnode.dll and links the import library next to it), but the
 * build turns on napi's `dyn-symbols`: the Node-API functions are looked up in the host process
 * when the addon loads, as napi-rs always does for MSVC. So the import library is an empty archive
 * and the DLL imports nothing from node.exe: it loads in any host that exports Node-API (node.exe,
 * Electron, a renamed node), exactly like the MSVC build of the release workflow.
 * The module-definition file makes the linker export only the Node-API entry point; without it the
 * MinGW linker exports every global symbol left after LTO (ring's assembly, the C runtime's,
 * rust_eh_personality).
 */
function windowsLinkFiles() {
  const dir = join(root, 'target', 'windows-link')
  mkdirSync(dir, { recursive: true })
  writeFileSync(join(dir, 'libnode.dll'), '') // only its existence is checked
  for (const name of ['libnode.a', 'libnode.dll.a']) writeFileSync(join(dir, name), '!<arch>\n') // an empty archive
  writeFileSync(join(dir, 'exports.def'), 'EXPORTS\n    napi_register_module_v1\n')
  return dir
}

/**
 * What a macOS build links with: LLVM's ld64.lld (rust-lld, shipped with every Rust toolchain)
 * instead of zig's Mach-O linker, because zig ignores the exported-symbols list rustc gives it and
 * would export Rust's rust_eh_personality and a std static next to napi_register_module_v1.
 * The SDK is zig's libSystem stub (a .tbd text file) under usr/lib, minus the arm64e.x1 targets
 * LLVM cannot parse; lld signs arm64 binaries ad hoc, as Apple's linker does. The wrapper drops
 * the lone `-Wl` that napi-build emits (for a cc driver) before `-undefined dynamic_lookup`.
 */
function macosLinkFiles(path) {
  const dir = join(root, 'target', 'macos-link')
  const lib = join(dir, 'sdk', 'usr', 'lib')
  mkdirSync(lib, { recursive: true })
  const zigLib = JSON.parse(run('python3', ['-c', 'import ziglang, json, os; print(json.dumps(os.path.dirname(ziglang.__file__)))'], { env: { ...process.env, PATH: path } }))
  const tbd = readFileSync(join(zigLib, 'lib', 'libc', 'darwin', 'libSystem.tbd'), 'utf8').replace(/,?\s*arm64e\.x1-(macos|maccatalyst)/g, '')
  for (const name of ['libSystem.tbd', 'libc.tbd', 'libm.tbd']) writeFileSync(join(lib, name), tbd)
  // The libc crate links libiconv on Apple targets; nothing here calls it. A stub names the library.
  writeFileSync(
    join(lib, 'libiconv.tbd'),
    "--- !tapi-tbd\ntbd-version: 4\ntargets: [ x86_64-macos, arm64-macos ]\ninstall-name: '/usr/lib/libiconv.2.dylib'\n" +
      'exports:\n  - targets: [ x86_64-macos, arm64-macos ]\n    symbols: [ _iconv, _iconv_open, _iconv_close ]\n...\n',
  )
  const sysroot = run('rustc', ['--print', 'sysroot']).trim()
  const host = /^host: (.+)$/m.exec(run('rustc', ['-vV']))[1]
  const lld = join(sysroot, 'lib', 'rustlib', host, 'bin', 'rust-lld')
  const linker = join(dir, 'ld64')
  writeFileSync(linker, `#!/bin/sh\nfor arg do\n  shift\n  [ "$arg" = "-Wl" ] && continue\n  set -- "$@" "$arg"\ndone\nexec "${lld}" "$@"\n`, { mode: 0o755 })
  return { linker, sdk: join(dir, 'sdk') }
}

function buildCross(platform, path) {
  const { triple, file } = CROSS[platform]
  addTarget(triple)
  const env = { ...process.env, PATH: path }
  const features = []
  if (platform.startsWith('darwin')) {
    env.MACOSX_DEPLOYMENT_TARGET = EXPECTED[platform].minMacos
    const { linker, sdk } = macosLinkFiles(path)
    const args = ['linker-flavor=ld64.lld', `linker=${linker}`, 'link-arg=-syslibroot', `link-arg=${sdk}`, 'link-arg=-install_name', `link-arg=@rpath/rampart.${platform}.node`]
    env[rustflagsVariable(triple)] = args.map((arg) => `-C ${arg}`).join(' ')
  } else {
    const dir = windowsLinkFiles()
    env.LIBNODE_PATH = dir
    env[rustflagsVariable(triple)] = `-C link-arg=${join(dir, 'exports.def')}`
    features.push('--features', 'napi/dyn-symbols')
  }
  run('cargo', ['zigbuild', '--release', '--target', triple, ...features], { env, stdio: ['ignore', 'inherit', 'inherit'] })
  const out = join(root, 'npm', platform, `rampart.${platform}.node`)
  copyFileSync(join(root, 'target', triple, 'release', file), out)
  const info = checkBinary(out, platform)
  console.error(
    `${platform}: ${(statSync(out).size / 2 ** 20).toFixed(1)} MiB, ${info.format} ${info.arch}, exports ${info.exports.join(' ')}` +
      `${info.minOs ? `, macOS ${info.minOs.version}+` : ''}, needs ${info.libraries.join(' ')}`,
  )
}

function buildWasi() {
  addTarget('wasm32-wasip1-threads')
  run('npx', ['napi', 'build', '--platform', '--release', '--target', 'wasm32-wasip1-threads'], {
    env: { ...process.env, CC_wasm32_wasip1_threads: process.env.CC_wasm32_wasip1_threads ?? 'clang' },
    stdio: ['ignore', 'inherit', 'inherit'],
  })
  // The loader finds the fallback at the package root (tests) or as rampart-wasm32-wasi (users).
  const dir = join(root, 'npm', 'wasm32-wasi')
  mkdirSync(dir, { recursive: true })
  for (const file of readdirSync(root).filter((f) => /^rampart\.wasm32-wasi\.wasm$|^rampart\.wasi(-browser)?\.(c?js|d\.cts)$|^wasi-worker(-browser)?\.mjs$/.test(f))) {
    copyFileSync(join(root, file), join(dir, file))
  }
  // The debug build is not shipped.
  if (existsSync(join(root, 'rampart.wasm32-wasi.debug.wasm'))) renameSync(join(root, 'rampart.wasm32-wasi.debug.wasm'), join(root, 'target', 'rampart.wasm32-wasi.debug.wasm'))
  console.error(`wasm32-wasi: ${(statSync(join(dir, 'rampart.wasm32-wasi.wasm')).size / 2 ** 20).toFixed(1)} MiB`)
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const chosen = process.argv.slice(2).length ? process.argv.slice(2) : ALL
  for (const name of chosen) if (!ALL.includes(name)) throw new Error(`unknown target ${name}; choose from ${ALL.join(', ')}`)
  const zig = chosen.filter((name) => LINUX[name] || CROSS[name])
  const path = zig.length ? zigPath() : process.env.PATH
  // One at a time: each is a full LTO build (the zig cache and target/<triple> keep reruns short).
  for (const platform of zig) {
    if (LINUX[platform]) buildLinux(platform, path)
    else buildCross(platform, path)
  }
  if (chosen.includes('wasm32-wasi')) buildWasi()
}
