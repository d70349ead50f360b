// The binding convention's promises, each a defect that once existed: throwing option getters in
// the async password calls, SharedArrayBuffer views, napi-rs status names as `code`.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'

import * as rampart from '../js/index.js'

const entry = fileURLToPath(new URL('../js/index.js', import.meta.url))

// Runs `body` in a fresh Node process with Node's default unhandled-rejection policy (throw,
// exit 1), so a stray rejection beside the returned promise fails the test.
function runChild(body) {
  const script = `const r = require(${JSON.stringify(entry)});\n(async () => {\n${body}\n})().then(() => setTimeout(() => console.log('CLEAN'), 50))`
  return spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 60_000 })
}

test('a throwing option getter rejects the promise and leaves no unhandled rejection', () => {
  const child = runChild(`
    const throwing = { get signal() { throw new Error('getter') } }
    const codes = []
    for (const call of [() => r.hashPassword('pw', throwing), () => r.verifyPassword('$argon2id$v=19$m=8,t=1,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', 'pw', throwing)]) {
      let promise
      try { promise = call() } catch (e) { console.log('SYNC THROW ' + e.message); continue }
      await promise.then(() => codes.push('resolved'), (e) => codes.push(e.name + ':' + e.code))
    }
    console.log(JSON.stringify(codes))
  `)
  assert.equal(child.status, 0, child.stderr)
  assert.doesNotMatch(child.stdout, /SYNC THROW/)
  assert.match(child.stdout, /\["TypeError:ERR_INVALID_ARG_VALUE","TypeError:ERR_INVALID_ARG_VALUE"\]/)
  assert.match(child.stdout, /CLEAN/)
})

test('a signal whose addEventListener throws rejects, with nothing else pending', () => {
  const child = runChild(`
    const signal = { aborted: false, addEventListener() { throw new Error('listener') } }
    await r.hashPassword('pw', { signal, memoryCost: 8, timeCost: 1 }).then(() => console.log('RESOLVED'), (e) => console.log('REJECTED ' + e.code))
  `)
  assert.equal(child.status, 0, child.stderr)
  assert.match(child.stdout, /REJECTED ERR_INVALID_ARG_VALUE/)
  assert.match(child.stdout, /CLEAN/)
})

test('views of a SharedArrayBuffer are refused with a TypeError, never read', async () => {
  const shared = new Uint8Array(new SharedArrayBuffer(32))
  const ring = new rampart.Keyring({ keys: [{ id: 'k', key: rampart.Keyring.generateKey() }], primary: 'k' })
  const sealed = ring.encrypt('x')
  const calls = {
    'hashPasswordSync(password)': () => rampart.hashPasswordSync(shared),
    'verifyPasswordSync(password)': () => rampart.verifyPasswordSync('$2b$04$abcdefghijklmnopqrstuuKp7GmJTIaeKnDqS5J2GnnBr/x8jvyG', shared),
    'hashPasswordSync(secret)': () => rampart.hashPasswordSync('pw', { secret: shared }),
    'Keyring(key)': () => new rampart.Keyring({ keys: [{ id: 'k', key: shared }], primary: 'k' }),
    'encrypt(plaintext)': () => ring.encrypt(shared),
    'encrypt(context)': () => ring.encrypt('x', { context: shared }),
    'decrypt(ciphertext)': () => ring.decrypt(shared),
    'decrypt(context)': () => ring.decrypt(sealed, { context: shared }),
    'keyId(ciphertext)': () => ring.keyId(shared),
  }
  for (const [name, call] of Object.entries(calls)) {
    assert.throws(call, (e) => e instanceof TypeError && e.code === 'ERR_INVALID_ARG_TYPE' && /SharedArrayBuffer/.test(e.message), name)
  }
  await assert.rejects(rampart.hashPassword(shared), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' })
  // The same bytes copied into an ordinary buffer are accepted.
  assert.equal(ring.decrypt(ring.encrypt(Buffer.from(shared))).length, 32)
})

test('throwing getters and Proxy traps in Keyring options give coded TypeErrors', () => {
  const trap = new Proxy({}, { get() { throw new Error('trap') } })
  const key = rampart.Keyring.generateKey()
  for (const options of [trap, { keys: trap, primary: 'k' }, { keys: [trap], primary: 'k' }, { keys: [{ id: 'k', get key() { throw new Error('g') } }], primary: 'k' }]) {
    assert.throws(() => new rampart.Keyring(options), (e) => e instanceof TypeError && /^ERR_INVALID_ARG_/.test(e.code))
  }
  const ring = new rampart.Keyring({ keys: [{ id: 'k', key }], primary: 'k' })
  assert.throws(() => ring.encrypt('x', trap), { name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE' })
  assert.throws(() => rampart.configurePasswordPool(trap), { name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE' })
  assert.throws(() => rampart.needsRehash('x', trap), { name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE' })
})

test('argument errors of password and keyring calls never use a napi-rs status name as code', async () => {
  const ring = new rampart.Keyring({ keys: [{ id: 'k', key: rampart.Keyring.generateKey() }], primary: 'k' })
  const values = [undefined, null, true, 1, 1n, Symbol('s'), {}, [], () => 1, NaN, Infinity, -1, 'x']
  const calls = [
    (v) => rampart.hashPasswordSync(v), (v) => rampart.hashPasswordSync('pw', v), (v) => rampart.verifyPasswordSync(v, 'pw'),
    (v) => rampart.needsRehash(v), (v) => rampart.needsRehash('$argon2id$', v), (v) => rampart.configurePasswordPool(v),
    (v) => new rampart.Keyring(v), (v) => ring.encrypt(v), (v) => ring.encrypt('x', v), (v) => ring.decrypt(v),
    (v) => ring.decryptString(v), (v) => ring.keyId(v), (v) => ring.needsReencrypt(v), (v) => ring.reencrypt(v),
    (v) => ring.encryptToString(v), (v) => rampart.configurePasswordPool({ threads: v }),
  ]
  for (const call of calls) {
    for (const v of values) {
      try {
        call(v)
      } catch (e) {
        assert.ok(e instanceof TypeError || e instanceof RangeError || /^ERR_/.test(e.code), `${call} ${String(v)}: ${e.code} ${e.message}`)
        if (e.code !== undefined) assert.match(e.code, /^ERR_/, `${call} ${String(v)}`)
      }
    }
  }
  rampart.configurePasswordPool({})
})

// The hot methods run as functions bound to native state (src/bound.rs), not as class methods.
// Whatever they are given, they must answer exactly as the class methods they replace: the same
// value, or an error of the same class, code and message.
function outcome(call) {
  try {
    return { value: call() }
  } catch (error) {
    return { error: [error?.constructor?.name, error?.code, error?.message] }
  }
}

const hostileArgs = [
  '{"password":"hunter2","msg":"Bearer 8f3c2a1b9d7e6f5a4b3c"}', '{"a":1}', 'not json', '', '[', '"\\ud800"',
  'token=abc&x=1 4111 1111 1111 1111', 'é ✓ \ud800 ok', Buffer.from('{"pin":"1234"}'), new Uint8Array([0xff, 0xfe]),
  new Uint8Array(new SharedArrayBuffer(4)), undefined, null, 42, {}, [], Symbol('s'), () => {}, 10n,
  new Proxy({}, { get() { throw new Error('trap') } }),
]

test('the bound Redactor functions answer as the class methods, for any argument', () => {
  for (const options of [undefined, { censor: '***' }, { pseudonymKey: 'k'.repeat(32), cardMask: 'last4' }, { patterns: [] }]) {
    const redactor = new rampart.Redactor(options)
    const native = Object.getPrototypeOf(rampart.Redactor.prototype)
    for (const arg of hostileArgs) {
      for (const method of ['redactJson', 'redactText']) {
        const bound = outcome(() => redactor[method](arg))
        const classMethod = outcome(() => native[method].call(redactor, arg))
        assert.deepEqual(bound, classMethod, `${method}(${typeof arg})`)
      }
    }
    // Extra arguments are ignored; a missing one is undefined.
    assert.deepEqual(outcome(() => redactor.redactText()), outcome(() => native.redactText.call(redactor)))
    assert.equal(redactor.redactJson('{"a":1}', 'extra'), '{"a":1}')
  }
})

test('the bound JwtVerifier function answers as the class method, for any argument', () => {
  const key = 'k'.repeat(32)
  const token = new rampart.JwtSigner({ algorithm: 'HS256', key, expiresIn: 60 }).sign({ sub: 'é' })
  const verifier = new rampart.JwtVerifier({ algorithms: ['HS256'], key })
  const native = Object.getPrototypeOf(rampart.JwtVerifier.prototype)
  // Native builds use the bound function; the WebAssembly build keeps the class method.
  const isNative = rampart.__napiBindingTarget === undefined || rampart.__napiBindingTarget === 'native'
  assert.equal(verifier._verify !== native._verify, isNative, 'the wrapper uses the bound function on native builds')
  const times = [undefined, Date.now() / 1000, 0, -1, Number.NaN, 1e20, '1', null]
  for (const arg of [token, `${token}x`, ...hostileArgs]) {
    for (const at of times) {
      const bound = outcome(() => verifier._verify(arg, at))
      const classMethod = outcome(() => native._verify.call(verifier, arg, at))
      assert.deepEqual(bound, classMethod, `_verify(${typeof arg}, ${String(at)})`)
    }
  }
  assert.equal(verifier.verify(token).sub, 'é')
})
