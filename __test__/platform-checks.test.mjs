// The C-library checks that scripts/build-platforms.mjs applies to every Linux release binary can
// fail: the development build (linked on this machine's newer glibc) must not pass them.
import assert from 'node:assert/strict'
import { existsSync, readdirSync } from 'node:fs'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'

import { checkLibc, glibcNeeded } from '../scripts/build-platforms.mjs'

const root = fileURLToPath(new URL('..', import.meta.url))
const dev = readdirSync(root).find((name) => name === 'rampart.linux-x64-gnu.node')

test('a binary that needs a glibc newer than 2.28 fails the gnu check, and any glibc binary fails the musl check', { skip: !dev && 'no linux-x64-gnu development build' }, () => {
  const file = `${root}${dev}`
  const needed = glibcNeeded(file)
  assert.ok(needed, 'the development build uses glibc symbols')
  if (needed[0] > 2 || needed[1] > 28) assert.throws(() => checkLibc(file, 'gnu'), /above the 2\.28 floor/)
  else assert.doesNotThrow(() => checkLibc(file, 'gnu'))
  assert.throws(() => checkLibc(file, 'musl'), /not a musl binary/)
})

test('release binaries, when built, pass their checks', { skip: !existsSync(`${root}npm/linux-x64-musl/rampart.linux-x64-musl.node`) && 'run npm run build:platforms first' }, () => {
  assert.doesNotThrow(() => checkLibc(`${root}npm/linux-x64-gnu/rampart.linux-x64-gnu.node`, 'gnu'))
  assert.doesNotThrow(() => checkLibc(`${root}npm/linux-x64-musl/rampart.linux-x64-musl.node`, 'musl'))
})
