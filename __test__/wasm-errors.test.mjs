// The WebAssembly fallback's rejections: napi-rs cannot reject with an error object there, so the
// addon tags the message with the code and class (src/error.rs `tagged_message`, checked by cargo
// test) and js/wasm-errors.js rebuilds the error. This checks the rebuilding natively; the
// WASI run of password-bad-input (npm run test:platforms) checks the whole path.
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { test } from 'node:test'

const { restoreRejection, withRestoredRejections } = createRequire(import.meta.url)('../js/wasm-errors.js')

test('a tagged rejection becomes the error a native build rejects with', () => {
  const restored = restoreRejection(new Error('[rampart:ERR_INVALID_ARG_TYPE:TypeError] The "password" argument must be of type string. Received type number'))
  assert.ok(restored instanceof TypeError)
  assert.equal(restored.code, 'ERR_INVALID_ARG_TYPE')
  assert.equal(restored.message, 'The "password" argument must be of type string. Received type number')
  const range = restoreRejection(new Error('[rampart:ERR_OUT_OF_RANGE:RangeError] too big'))
  assert.deepEqual([range.constructor, range.code, range.message], [RangeError, 'ERR_OUT_OF_RANGE', 'too big'])
  const format = restoreRejection(new Error('[rampart:ERR_HASH_FORMAT:Error] not a hash'))
  assert.deepEqual([format.constructor, format.code, format.name], [Error, 'ERR_HASH_FORMAT', 'Error'])
})

test('an AbortError gets its name and the signal reason as cause; a throwing options getter is ignored', () => {
  const reason = new Error('user left')
  const aborted = restoreRejection(new Error('[rampart:ABORT_ERR:Error] The operation was aborted'), { signal: { reason } })
  assert.deepEqual([aborted.name, aborted.code, aborted.cause], ['AbortError', 'ABORT_ERR', reason])
  const hostile = { get signal() { throw new Error('getter') } }
  const noCause = restoreRejection(new Error('[rampart:ABORT_ERR:Error] The operation was aborted'), hostile)
  assert.deepEqual([noCause.name, 'cause' in noCause], ['AbortError', false])
})

test('anything else passes through untouched', () => {
  for (const value of [new Error('plain'), new Error('[rampart:lower:TypeError] x'), new Error('[rampart:ERR_X:SyntaxError] x'), new Error('x [rampart:ERR_X:Error] y'), 'text', 42, undefined, null]) {
    assert.equal(restoreRejection(value), value)
  }
})

test('withRestoredRejections keeps the name and arguments, and restores only rejections', async () => {
  const seen = []
  async function hashPassword(...args) {
    seen.push(args)
    if (args[0] === 'bad') throw new Error('[rampart:ERR_INVALID_ARG_TYPE:TypeError] bad input')
    return 'ok'
  }
  const wrapped = withRestoredRejections(hashPassword, 1)
  assert.equal(wrapped.name, 'hashPassword')
  assert.equal(await wrapped('pw', { timeCost: 2 }), 'ok')
  await assert.rejects(wrapped('bad'), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE', message: 'bad input' })
  assert.deepEqual(seen, [['pw', { timeCost: 2 }], ['bad']])
})
