// The error users get when no binary fits their platform names it and says what to install.
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { test } from 'node:test'

const { noBinaryError } = createRequire(import.meta.url)('../js/load-error.js')

test('a missing platform package is named, with the command that installs it', () => {
  const cause = new Error('Cannot find native binding')
  const musl = noBinaryError(cause, 'linux', 'arm64', 'musl')
  assert.equal(musl.code, 'ERR_RAMPART_NO_BINARY')
  assert.equal(musl.cause, cause)
  assert.match(musl.message, /linux-arm64 \(musl\)/)
  assert.match(musl.message, /npm install rampart-linux-arm64-musl/)
  assert.match(noBinaryError(cause, 'win32', 'x64', '').message, /rampart-win32-x64-msvc/)
  assert.match(noBinaryError(cause, 'darwin', 'arm64', '').message, /npm install rampart-darwin-arm64/)
})

test('a platform with no native build is pointed at the WebAssembly fallback', () => {
  const error = noBinaryError(new Error('x'), 'freebsd', 'x64', '')
  assert.match(error.message, /no native binary for freebsd-x64/)
  assert.match(error.message, /rampart-wasm32-wasi/)
})
