// Builds the native addon (release) when it is missing or older than any Rust source, so that
// `npm test`, `npm run demo` and `npm run bench` work straight after `npm install`.
import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const inputs = ['Cargo.toml', 'Cargo.lock', 'build.rs', 'package.json', 'src']

function newestMtime(path) {
  const stat = statSync(path)
  if (!stat.isDirectory()) return stat.mtimeMs
  return Math.max(0, ...readdirSync(path).map((name) => newestMtime(join(path, name))))
}

// The generated loader names the file for this platform; find whichever one it would load.
const built = readdirSync(root).filter((name) => /^rampart\..+\.node$/.test(name))
const binaryTime = built.length ? Math.min(...built.map((name) => statSync(join(root, name)).mtimeMs)) : 0
const sourceTime = Math.max(...inputs.filter((p) => existsSync(join(root, p))).map((p) => newestMtime(join(root, p))))

if (binaryTime >= sourceTime) {
  process.exit(0)
}
console.log(built.length ? 'rampart: sources changed, rebuilding the addon' : 'rampart: building the addon (first run)')
execFileSync('npx', ['napi', 'build', '--platform', '--release'], { cwd: root, stdio: 'inherit' })
