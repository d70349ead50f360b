// Where each test suite (__test__/<name>.test.mjs) runs besides the host (`npm test` runs them all
// natively): `true`, or the reason it does not run there. scripts/test-platforms.mjs fails when a
// suite file is missing from this table, so a new suite is never skipped without a written reason:
// add a line for it.
//   win32-x64        the official Windows Node 22 under Wine (scripts/wine.mjs)
//   linux-arm64-gnu  the official arm64 Node 22 under qemu-aarch64
//   wasm32-wasi      the WebAssembly build through Node's WASI (NAPI_RS_FORCE_WASI=error)

const EMULATION = 'not run under qemu to keep CI time: the primitives it uses are covered by the suites that do run'
const WASI_PEERS = 'its peer libraries are native x64 addons; it tests them against rampart, not the WASI build'

// Reasons measured on 2026-12-05 by running each suite there (see docs/platform-support.md).
const SPAWNS = 'spawns child Node processes with process.execPath, an arm64 binary this machine runs only through qemu-aarch64 (no binfmt_misc registration): the children fail to start'
const REDIS = 'needs redis-server, a Linux binary started by the test; not available to the emulated Node'

export const SUITES = {
  'boundary': { 'win32-x64': true, 'linux-arm64-gnu': SPAWNS, 'wasm32-wasi': true },
  'csrf': { 'win32-x64': true, 'linux-arm64-gnu': true, 'wasm32-wasi': true },
  'events': { 'win32-x64': true, 'linux-arm64-gnu': true, 'wasm32-wasi': true },
  'example-browser': { 'win32-x64': 'drives Debian\'s Chromium on the host; the page and API are covered natively in npm test', 'linux-arm64-gnu': 'drives Debian\'s Chromium on the host; the page and API are covered natively in npm test', 'wasm32-wasi': 'drives Debian\'s Chromium on the host; the page and API are covered natively in npm test' },
  'example-mfa': { 'win32-x64': true, 'linux-arm64-gnu': true, 'wasm32-wasi': true },
  'hostile-input': { 'win32-x64': true, 'linux-arm64-gnu': SPAWNS, 'wasm32-wasi': 'its ~38,000 hostile calls (1 MiB strings and Buffers among them) exceed the child\'s 50 s bound on WebAssembly; runs natively, on Node 22/24 and under Wine' },
  'jwt-cache': { 'win32-x64': true, 'linux-arm64-gnu': true, 'wasm32-wasi': true },
  'jwt-ed25519-keys': { 'win32-x64': true, 'linux-arm64-gnu': true, 'wasm32-wasi': true },
  'jwt-example-jwks': { 'win32-x64': true, 'linux-arm64-gnu': true, 'wasm32-wasi': true },
  'jwt-jwks': { 'win32-x64': true, 'linux-arm64-gnu': true, 'wasm32-wasi': true },
  'login-guard': { 'win32-x64': 'runs every case on the memory store and on Redis: ' + REDIS, 'linux-arm64-gnu': 'runs every case on the memory store and on Redis: ' + REDIS, 'wasm32-wasi': true },
  'mfa': { 'win32-x64': true, 'linux-arm64-gnu': true, 'wasm32-wasi': true },
  'redact-destination': { 'win32-x64': true, 'linux-arm64-gnu': SPAWNS, 'wasm32-wasi': true },
  'redact-gaps': { 'win32-x64': true, 'linux-arm64-gnu': SPAWNS, 'wasm32-wasi': true },
  'redact-logging': { 'win32-x64': true, 'linux-arm64-gnu': 'its pino transport test starts a worker that ' + SPAWNS.replace('spawns child Node processes', 'spawns a child Node process'), 'wasm32-wasi': true },
  'redis': { 'win32-x64': 'needs redis-server, a Linux binary started by the test; not available to the emulated Node', 'linux-arm64-gnu': 'needs redis-server, a Linux binary started by the test; not available to the emulated Node', 'wasm32-wasi': 'needs redis-server, a Linux binary started by the test; not available to the emulated Node' },
  'redis-cluster': { 'win32-x64': 'needs redis-server and redis-cli (Linux binaries started by the test)', 'linux-arm64-gnu': 'needs redis-server and redis-cli (Linux binaries started by the test)', 'wasm32-wasi': 'needs redis-server and redis-cli (Linux binaries started by the test)' },
  'redis-express': { 'win32-x64': 'needs redis-server, a Linux binary started by the test', 'linux-arm64-gnu': 'needs redis-server, a Linux binary started by the test', 'wasm32-wasi': 'needs redis-server, a Linux binary started by the test' },
  'redis-faults': { 'win32-x64': 'needs redis-server, a Linux binary started and killed by the test', 'linux-arm64-gnu': 'needs redis-server, a Linux binary started and killed by the test', 'wasm32-wasi': 'needs redis-server, a Linux binary started and killed by the test' },
  'mfa-redis': { 'win32-x64': 'needs redis-server, a Linux binary started and killed by the test', 'linux-arm64-gnu': 'needs redis-server, a Linux binary started and killed by the test', 'wasm32-wasi': 'needs redis-server, a Linux binary started and killed by the test' },
  // A Node 20 deadlock (JWK export of a generated KeyObject during GC); the emulated targets run Node 22, which never hung.
  'jwt-keyobject-gc': { 'win32-x64': 'guards a Node 20 deadlock; the Windows Node here is 22 (runs natively and on Node 22/24)', 'linux-arm64-gnu': 'guards a Node 20 deadlock; the arm64 Node here is 22 (runs natively and on Node 22/24)', 'wasm32-wasi': 'guards a Node 20 deadlock in KeyObject export; the WASI build gets the same plain JWK (runs natively)' },
  'wasm-errors': { 'win32-x64': 'plain JavaScript: the rebuilding does not depend on the binary', 'linux-arm64-gnu': 'plain JavaScript: the rebuilding does not depend on the binary', 'wasm32-wasi': true },
  'totp': { 'win32-x64': true, 'linux-arm64-gnu': true, 'wasm32-wasi': true },
  password: { 'win32-x64': true, 'linux-arm64-gnu': true, 'wasm32-wasi': true },
  'password-bad-input': {
    'win32-x64': true,
    'linux-arm64-gnu': true,
    // Rejections carry their code and class in a tagged message there (js/wasm-errors.js).
    'wasm32-wasi': true,
  },
  // On Windows the peers come from their own Windows binaries: argon2 and bcrypt ship them in the
  // package; @node-rs/argon2's win32-x64-msvc package is fetched by test-platforms (NODE_PATH).
  'password-interop': { 'win32-x64': true, 'linux-arm64-gnu': 'its peer libraries are installed for x64 only', 'wasm32-wasi': WASI_PEERS },
  'password-pool': { 'win32-x64': true, 'linux-arm64-gnu': EMULATION, 'wasm32-wasi': 'its tests of the native hashing pool and of worker threads sharing it are not tried on WASI' },
  keyring: { 'win32-x64': true, 'linux-arm64-gnu': true, 'wasm32-wasi': true },
  'keyring-bad-input': { 'win32-x64': true, 'linux-arm64-gnu': true, 'wasm32-wasi': true },
  jwt: { 'win32-x64': true, 'linux-arm64-gnu': true, 'wasm32-wasi': true },
  'jwt-attacks': { 'win32-x64': true, 'linux-arm64-gnu': true, 'wasm32-wasi': true },
  'jwt-bad-input': { 'win32-x64': true, 'linux-arm64-gnu': true, 'wasm32-wasi': true },
  'jwt-interop': { 'win32-x64': true, 'linux-arm64-gnu': true, 'wasm32-wasi': true },
  ratelimit: { 'win32-x64': true, 'linux-arm64-gnu': 'its 5M-key memory test needs minutes under qemu', 'wasm32-wasi': 'its 5M-key memory test needs minutes on WebAssembly' },
  redact: { 'win32-x64': true, 'linux-arm64-gnu': true, 'wasm32-wasi': true },
  // fetch() runs for real under Wine: scripts/wine/preload.cjs works around Wine's keep-alive bug.
  express: { 'win32-x64': true, 'linux-arm64-gnu': EMULATION, 'wasm32-wasi': EMULATION.replace('under qemu', 'on WASI') },
  'express-auth': { 'win32-x64': true, 'linux-arm64-gnu': true, 'wasm32-wasi': true },
  example: { 'win32-x64': true, 'linux-arm64-gnu': EMULATION, 'wasm32-wasi': EMULATION.replace('under qemu', 'on WASI') },
  'load-error': { 'win32-x64': true, 'linux-arm64-gnu': 'plain JavaScript: the error text does not depend on the binary', 'wasm32-wasi': 'plain JavaScript: the error text does not depend on the binary' },
  packaging: {
    'win32-x64': 'packs and installs the linux-x64-gnu package; test-platforms installs the packed win32-x64-msvc package and runs it under Wine instead',
    'linux-arm64-gnu': 'packs and installs the linux-x64-gnu package; the packed install is checked per platform by test-platforms',
    'wasm32-wasi': 'packs and installs the linux-x64-gnu package; test-platforms runs the packed WASI package instead',
  },
  'platform-checks': {
    'win32-x64': 'checks the build machine\'s binaries with its Linux tools (objdump, readelf); runs natively in npm test',
    'linux-arm64-gnu': 'checks the build machine\'s binaries; runs natively in npm test',
    'wasm32-wasi': 'checks the build machine\'s binaries; runs natively in npm test',
  },
}

export const PLATFORMS = ['win32-x64', 'linux-arm64-gnu', 'wasm32-wasi']

/** The suite files in __test__ against the table: throws on a suite with no entry (or a stale entry). */
export function suitesFor(platform, files) {
  const names = files.filter((f) => f.endsWith('.test.mjs')).map((f) => f.slice(0, -'.test.mjs'.length))
  const unlisted = names.filter((name) => !SUITES[name])
  if (unlisted.length) {
    throw new Error(
      `test suites not listed in scripts/platform-suites.mjs: ${unlisted.join(', ')}. ` +
        `Add each with, per platform, true (it runs there) or the reason it cannot.`,
    )
  }
  const stale = Object.keys(SUITES).filter((name) => !names.includes(name))
  if (stale.length) throw new Error(`scripts/platform-suites.mjs lists suites that do not exist: ${stale.join(', ')}`)
  const run = []
  const excluded = {}
  for (const name of names) {
    const where = SUITES[name][platform]
    if (where === true) run.push(name)
    else if (typeof where === 'string' && where) excluded[name] = where
    else throw new Error(`scripts/platform-suites.mjs: ${name} says neither true nor a reason for ${platform}`)
  }
  return { run, excluded }
}
