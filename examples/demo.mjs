// `npm run demo`: a short tour of what rampart does so far (password hashing, encryption at
// rest, JWTs). The Express API example will replace this tour once the other primitives exist.
import { generateKeyPairSync } from 'node:crypto'

import {
  JwtSigner,
  JwtVerifier,
  Keyring,
  configurePasswordPool,
  hashPassword,
  needsRehash,
  passwordPoolStats,
  verifyPassword,
} from 'rampart'

const ms = (start) => `${(performance.now() - start).toFixed(1)} ms`

console.log('rampart demo\n\n1. Password hashing\n')

let start = performance.now()
const hash = await hashPassword('correct horse battery staple')
console.log(`register  hashPassword(...)           -> ${hash}  (${ms(start)})`)

start = performance.now()
console.log(`login     verifyPassword(right)       -> ${await verifyPassword(hash, 'correct horse battery staple')}  (${ms(start)})`)
console.log(`login     verifyPassword(wrong)       -> ${await verifyPassword(hash, 'Tr0ub4dor&3')}`)
console.log(`          needsRehash(hash)           -> ${needsRehash(hash)}`)

// A user who signed up years ago, when the app used bcrypt (cost 10).
const legacy = '$2b$10$qB28.ohGzN76VdKjwZBHtOt4.0v7phiZzepuG3U6Xw/DJgj9T2PsO'
const legacyOk = await verifyPassword(legacy, 'correct horse battery staple')
console.log(`\nmigrate   verifyPassword(bcrypt hash) -> ${legacyOk}; needsRehash -> ${needsRehash(legacy)}`)
if (legacyOk && needsRehash(legacy)) {
  console.log(`          store the new argon2id hash -> ${(await hashPassword('correct horse battery staple')).slice(0, 40)}...`)
}

const hostile = '$argon2id$v=19$m=4294967295,t=1,p=1$c29tZXNhbHRzb21lc2FsdA$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc'
try {
  await verifyPassword(hostile, 'anything')
} catch (error) {
  console.log(`\nguard     a planted 4 TiB hash        -> ${error.code}: ${error.message}`)
}

// A login flood: the pool runs one hash per core, keeps a bounded queue, and turns the rest
// away at once with ERR_BUSY (answer 503) instead of stalling the whole app.
configurePasswordPool({ maxQueue: 16 })
start = performance.now()
const flood = await Promise.allSettled(Array.from({ length: 100 }, () => hashPassword('pw')))
const busy = flood.filter((r) => r.status === 'rejected' && r.reason.code === 'ERR_BUSY').length
console.log(`\nflood     100 hashes at once           -> ${100 - busy} hashed, ${busy} ERR_BUSY  (${ms(start)})`)
console.log('          passwordPoolStats()         ->', passwordPoolStats())

console.log('\n2. Encryption at rest (Keyring)\n')
const oldKey = Keyring.generateKey()
const ring2026 = new Keyring({ keys: [{ id: '2026-01', key: oldKey }], primary: '2026-01' })
const stored = ring2026.encryptToString('alice@example.com', { context: 'users.email:42' })
console.log(`encrypt   encryptToString(email)      -> ${stored}`)
console.log(`decrypt   decryptString(...)          -> ${ring2026.decryptString(stored, { context: 'users.email:42' })}`)
try {
  ring2026.decryptString(stored, { context: 'users.email:43' })
} catch (error) {
  console.log(`          copied to another row       -> ${error.code}`)
}
const rotated = new Keyring({
  keys: [{ id: '2026-01', key: oldKey }, { id: '2026-07', key: Keyring.generateKey() }],
  primary: '2026-07',
})
console.log(`rotate    needsReencrypt(old value)   -> ${rotated.needsReencrypt(stored)} (key ${rotated.keyId(stored)})`)
const moved = rotated.reencrypt(stored, { context: 'users.email:42' })
console.log(`          reencrypt(...)              -> key ${rotated.keyId(moved)}, ${rotated.decryptString(moved, { context: 'users.email:42' })}`)

console.log('\n3. JWT (JwtSigner / JwtVerifier)\n')
const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
const signer = new JwtSigner({ algorithm: 'ES256', key: privateKey, keyId: 'k1', issuer: 'api', audience: 'app', expiresIn: 900 })
const verifier = new JwtVerifier({ algorithms: ['ES256'], key: publicKey, issuer: 'api', audience: 'app' })
const token = signer.sign({ sub: '42', role: 'admin' })
console.log(`sign      signer.sign({ sub, role })  -> ${token.slice(0, 60)}...`)
console.log('verify    verifier.verify(token)      ->', verifier.verify(token))
const [header, , signature] = token.split('.')
const forged = `${header}.${Buffer.from(JSON.stringify({ sub: '1', role: 'admin', exp: 9999999999 })).toString('base64url')}.${signature}`
for (const [label, attempt] of [
  ['a forged payload', forged],
  ['alg "none"', `${Buffer.from('{"alg":"none"}').toString('base64url')}.${token.split('.')[1]}.`],
]) {
  try {
    verifier.verify(attempt)
  } catch (error) {
    console.log(`reject    ${label.padEnd(26)}-> ${error.code}`)
  }
}
