// Writes the small seed corpora in fuzz/seeds/<target>/ from the test vectors (run once with
// `node fuzz/make-seeds.mjs`; the output is committed). Each seed is one file, named by content.
import { createHash, generateKeyPairSync } from 'node:crypto'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'

const here = new URL('.', import.meta.url)
const fixture = (name) => JSON.parse(readFileSync(new URL(`../__test__/fixtures/${name}`, here)))
function seed(target, bytes) {
  const dir = new URL(`seeds/${target}/`, here)
  mkdirSync(dir, { recursive: true })
  const data = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes)
  writeFileSync(new URL(createHash('sha1').update(data).digest('hex'), dir), data)
}
const withMode = (...parts) => Buffer.concat(parts.map((p) => (typeof p === 'number' ? Buffer.from([p]) : Buffer.from(p))))

const jwt = fixture('jwt-vectors.json').vectors
for (const v of jwt) {
  for (const mode of [0, 1, 2, 3]) seed('jws_verify', withMode(mode, 3, 1, v.token))
  seed('key_parse', withMode(1, JSON.stringify(v.jwk)))
}
seed('key_parse', withMode(2, JSON.stringify({ keys: jwt.slice(0, 4).map((v) => v.jwk) })))
for (const payload of ['{"sub":"42","role":"admin"}', '{"aud":["a","b"],"exp":1700000600,"nbf":1,"iat":1699999999}', '{}']) {
  for (const mode of [0x80, 0x81, 0x82, 0x83]) seed('jws_verify', withMode(mode, 7, 0x40, payload))
}
for (const [type, options] of [['ed25519', {}], ['ec', { namedCurve: 'P-256' }], ['ec', { namedCurve: 'P-384' }], ['rsa', { modulusLength: 2048 }]]) {
  const { privateKey, publicKey } = generateKeyPairSync(type, options)
  seed('key_parse', withMode(0, privateKey.export({ format: 'pem', type: 'pkcs8' })))
  seed('key_parse', withMode(0, publicKey.export({ format: 'pem', type: 'spki' })))
  seed('key_parse', withMode(1, JSON.stringify(privateKey.export({ format: 'jwk' }))))
  if (type !== 'ed25519') seed('key_parse', withMode(0, privateKey.export({ format: 'pem', type: type === 'rsa' ? 'pkcs1' : 'sec1' })))
}
seed('key_parse', withMode(1, JSON.stringify({ kty: 'oct', k: 'c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA' })))

for (const v of fixture('keyring-kat.json')) {
  seed('keyring_open', withMode(0, Buffer.from(v.envelope, 'hex')))
  seed('keyring_open', withMode(1, v.text))
  seed('keyring_open', withMode(2, Buffer.from([v.context.length]), v.context, Buffer.from(v.plaintext, 'hex')))
}

for (const hash of [
  '$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
  '$argon2i$v=19$m=65536,t=3,p=4$c2FsdHNhbHRzYWx0c2FsdA$qWLw6ehV9eUQ2B+pN0hkqvtiTUmO2AFW9tAX3n7ARAs',
  '$argon2d$m=4096,t=3,p=1,data=ZGF0YQ$c2FsdHNhbHQ$qWLw6ehV9eUQ2B+pN0hkqvtiTUmO2AFW9tAX3n7ARAs',
  '$argon2id$v=16$m=8,t=1,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
  '$2b$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy',
  '$2a$04$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy',
  '$2y$31$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy',
]) seed('password_parse', hash)

for (const line of [
  '{"level":30,"msg":"login","password":"hunter2","user":{"email":"a@b.c","apiKey":"k"}}',
  '{"items":[{"pin":"1234","ssn":"078-05-1120"}],"a":{"b":[1,"secret"]}}',
  '{"msg":"paid with 4111 1111 1111 1111","headers":{"authorization":"Bearer abcdefghijklmnop"}}',
  '{"msg":"token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln AKIAIOSFODNN7EXAMPLE","n":-1.5e3,"t":true,"z":null}\n',
  '[1,2,{"cookie":"sid=1"},"-----BEGIN PRIVATE KEY-----\\nMIIB\\n-----END PRIVATE KEY-----"]',
  'GET /?token=abc Authorization: Basic dXNlcjpwYXNzd29yZA== set-cookie: sid=1',
  '{"\\u0070assword":"x","deep":[[[[[[{"secret":"s"}]]]]]]}',
]) seed('redact', line)

for (let i = 0; i < 4; i++) seed('ratelimit', createHash('sha256').update(String(i)).digest())
