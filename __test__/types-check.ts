// Compiled with `tsc --noEmit` (part of `npm test`): the published types accept what the README
// shows and reject what the addon rejects at run time.
import { generateKeyPairSync } from 'node:crypto'

import {
  JwtSigner,
  JwtVerifier,
  Keyring,
  Redactor,
  decodeJwtUnverified,
  configurePasswordPool,
  hashPassword,
  hashPasswordSync,
  needsRehash,
  passwordPoolStats,
  verifyPassword,
  verifyPasswordSync,
  type HashPasswordOptions,
  type KeyUsage,
  type PasswordPoolStats,
} from '../index.js'
import { authorize, errorHandler, requireJwt } from '../js/express.js'
import { pinoRedaction, winstonRedaction } from '../js/logging.js'

async function usage(): Promise<void> {
  const options: HashPasswordOptions = { memoryCost: 19456, timeCost: 2, parallelism: 1, secret: Buffer.from('pepper') }
  const hash: string = await hashPassword('correct horse', options)
  const ok: boolean = await verifyPassword(hash, new Uint8Array([1, 2, 3]), { maxMemoryCost: 65536, signal: AbortSignal.timeout(1000) })
  const rehash: boolean = needsRehash(hash, { memoryCost: 65536 })
  const sync: string = hashPasswordSync('pw')
  const syncOk: boolean = verifyPasswordSync(sync, 'pw', { bcryptTruncate: true })
  const stats: PasswordPoolStats = configurePasswordPool({ threads: 2, maxQueue: 128 })
  const { queued, rejected }: { queued: number; rejected: number } = passwordPoolStats()
  void [ok, rehash, syncOk, stats, queued, rejected]

  const key: Buffer = Keyring.generateKey()
  const ring = new Keyring({ keys: [{ id: '2026-01', key }, { id: '2025-07', key: key.toString('base64') }], primary: '2026-01' })
  const box: Buffer = ring.encrypt('alice@example.com', { context: 'users.email:42' })
  const text: string = ring.encryptToString(new Uint8Array([1, 2]), { context: Buffer.from('ctx') })
  const plain: string = ring.decrypt(box, { context: 'users.email:42' }).toString() + ring.decryptString(text).toString()
  const moved: Buffer | string = ring.reencrypt(text)
  const id: string = ring.keyId(box) + ring.primaryKeyId
  const usage: KeyUsage[] = ring.usage()
  const stale: boolean = ring.needsReencrypt(box)
  void [plain, moved, id, usage, stale]
  // @ts-expect-error keys are bytes or base64 text
  new Keyring({ keys: [{ id: 'k', key: 42 }], primary: 'k' })

  // @ts-expect-error passwords are strings or bytes
  await hashPassword(42)
  // @ts-expect-error the sync twins take no signal
  hashPasswordSync('pw', { signal: AbortSignal.timeout(1) })

  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const signer = new JwtSigner({ algorithm: 'ES256', key: privateKey, keyId: 'k1', issuer: 'api', audience: ['app'], expiresIn: 900 })
  const token: string = signer.sign({ sub: '42', role: 'admin' }, { currentTime: 1_700_000_000 })
  const verifier = new JwtVerifier({ algorithms: ['ES256'], key: publicKey.export({ format: 'jwk' }), issuer: 'api', audience: 'app' })
  const payload = verifier.verify(token)
  const sub: string | undefined = payload.sub
  const exp: number | undefined = payload.exp
  const role: unknown = payload.role
  const kid: string | undefined = decodeJwtUnverified(token).header.kid
  const hs = new JwtVerifier({ algorithms: ['HS256', 'HS512'], key: Buffer.alloc(64), clockTolerance: 5, maxAge: 3600, requiredClaims: ['jti'], typ: 'at+jwt' })
  void [sub, exp, role, kid, hs, signer.algorithm, verifier.algorithms]
  // @ts-expect-error algorithms are a fixed list, and none is not on it
  new JwtVerifier({ algorithms: ['none'], key: 'k' })
  // @ts-expect-error the payload is an object of claims
  signer.sign('sub=42')

  const redactor = new Redactor({ keys: [...Redactor.defaultKeys(), 'pin'], paths: ['items[*].pin'], patterns: Redactor.patternNames(), cardMask: 'last4' })
  const line: string = redactor.redactJson('{"password":"x"}') + redactor.redactText(Buffer.from('token=abc'))
  const copy: unknown = redactor.redact({ password: 'x' })
  const hooks: { streamWrite(line: string): string } = pinoRedaction(redactor)
  const format = winstonRedaction({ censor: '***', pseudonymKey: Buffer.alloc(32) })
  void [line, copy, hooks, format.transform({})]
  // @ts-expect-error card masks are 'full' or 'last4'
  new Redactor({ cardMask: 'first6' })

  const guard = requireJwt({ verifier, realm: 'api', credentialsRequired: false })
  const admins = authorize('admin', ['owner'])
  const handler = errorHandler({ logger: { error: () => undefined }, redactor, production: true })
  void [guard, admins, handler]
  // @ts-expect-error requireJwt needs a verifier
  requireJwt({})
}
void usage

// Remote JWKS, verifyAsync and signer.jwks() (issue 15).
import { RemoteJwks } from '../index.js'
import { jwksHandler } from '../js/express.js'
{
  const jwks = new RemoteJwks('https://idp.example/.well-known/jwks.json', { cooldownMs: 30_000, onError: (e) => void e.code })
  const remote = new JwtVerifier({ algorithms: ['RS256'], key: jwks, issuer: 'https://idp.example/' })
  const pending: Promise<import('../js/jwt.js').JwtPayload> = remote.verifyAsync('t')
  void pending
  const signer = new JwtSigner({ algorithm: 'ES256', key: '', keyId: 'k1' })
  const set: import('../js/jwt.js').JsonWebKeySet = signer.jwks()
  void set
  void jwksHandler(signer, { maxAgeSeconds: 60 })
  // @ts-expect-error: the URL is required
  void new RemoteJwks()
}
