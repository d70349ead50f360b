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
  RateLimiter,
  RedisRateLimiter,
  __napiBindingTarget,
  type CryptOptions,
  type DecodedJwt,
  type JwtAlgorithm,
  type JwtCallOptions,
  type JwtHeader,
  type JwtPayload,
  type JwtSignerOptions,
  type JwtVerifierOptions,
  type KeyringKey,
  type KeyringOptions,
  type PasswordPoolOptions,
  type RateLimiterOptions,
  type RateLimiterStats,
  type RateLimitResult,
  type RedactorOptions,
  type VerifyPasswordOptions,
} from '../js/index.js'
import {
  authorize,
  errorHandler,
  requireJwt,
  rateLimit,
  ipKeyGenerator,
  RampartStore,
  RampartRedisStore,
  LoginGuard,
  type RateLimitOptions,
  type LoginGuardOptions,
} from '../js/express.js'
import { RedisRateLimiter as RedisRateLimiterFromSubpath, RedisTotpStepStore, type RedisRateLimiterOptions } from '../js/redis.js'
import { pinoRedaction, redactedDestination, winstonRedaction } from '../js/logging.js'

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

async function redisUsage(client: { evalsha(...args: any[]): Promise<unknown>; eval(...args: any[]): Promise<unknown> }): Promise<void> {
  const options: RedisRateLimiterOptions = { client, limit: 5, windowMs: 60_000, algorithm: 'sliding-window', onStoreError: 'fail-closed', timeoutMs: 20 }
  const limiter = new RedisRateLimiter(options)
  const result: RateLimitResult = await limiter.hit('k', 2)
  const peeked: RateLimitResult = await limiter.peek('k')
  const existed: boolean = await limiter.reset('k')
  await limiter.refund('k', 1)
  limiter.on('outage', (error: Error) => void error)
  const up: boolean = limiter.stats().redisUp
  void [result, peeked, existed, up, new RedisRateLimiterFromSubpath(options).prefix]
  rateLimit({ store: limiter })
  const store = new RampartRedisStore({ client, prefix: 'erl:' })
  const hits: number = (await store.increment('k')).totalHits
  void hits
  // @ts-expect-error onStoreError is one of three policies
  new RedisRateLimiter({ ...options, onStoreError: 'ignore' })
  // @ts-expect-error a client is required
  new RedisRateLimiter({ limit: 1, windowMs: 1 })
  const steps = new RedisTotpStepStore({ client, prefix: 'totp:', timeoutMs: 200 })
  const last: number | null = await steps.get('user-1')
  const advanced: boolean = await steps.advance('user-1', 1, 90_000)
  void [last, advanced, steps.prefix]
}
void redisUsage
// Every documented export of the three entry points, used once with its documented types; the
// internal native methods the JS classes wrap are not part of the published types.
function surface(): void {
  const target: 'native' | 'wasm32-wasi' | 'wasm32-wasip1' = __napiBindingTarget
  const crypt: CryptOptions = { context: 'users.email:42' }
  const keyEntry: KeyringKey = { id: 'k', key: 'AAAA' }
  const ringOptions: KeyringOptions = { keys: [keyEntry], primary: 'k', maxEncryptionsPerKey: 1000 }
  const pool: PasswordPoolOptions = { threads: 1 }
  const verify: VerifyPasswordOptions = { maxBcryptCost: 12, bcryptTruncate: false }
  const algorithm: JwtAlgorithm = 'EdDSA'
  const signerOptions: JwtSignerOptions = { algorithm: 'HS256', key: Buffer.alloc(32) }
  const verifierOptions: JwtVerifierOptions = { algorithms: [algorithm], key: 'k' }
  const call: JwtCallOptions = { currentTime: 1 }
  const header: JwtHeader = { alg: 'HS256' }
  const claims: JwtPayload = { sub: 'x' }
  const decoded: DecodedJwt = decodeJwtUnverified('a.b.c')
  const limiterOptions: RateLimiterOptions = { limit: 10, windowMs: 1000, algorithm: 'sliding-window' }
  const limiter = new RateLimiter(limiterOptions)
  const hit: RateLimitResult = limiter.hit('ip', 2)
  const peek: RateLimitResult = limiter.peek('ip')
  limiter.refund('ip')
  const reset: boolean = limiter.reset('ip')
  limiter.clear()
  const stats: RateLimiterStats = limiter.stats()
  const shape: [number, number, number, string, string | null] = [limiter.size, limiter.limit, limiter.windowMs, limiter.algorithm, limiter.name]
  const redactorOptions: RedactorOptions = { censor: '[x]' }
  void [target, crypt, ringOptions, pool, verify, signerOptions, verifierOptions, call, header, claims, decoded, hit, peek, reset, stats, shape, redactorOptions]

  // @ts-expect-error internal fast path, not published
  limiter._apply('ip', 1, true, new Float64Array(3))
  const signer = new JwtSigner(signerOptions)
  // @ts-expect-error internal fast path, not published
  signer._sign('{}')
  // @ts-expect-error internal, not published
  signer._signingInput('{}')
  // @ts-expect-error internal fast path, not published
  new JwtVerifier(verifierOptions)._verify('a.b.c')

  const limitOptions: RateLimitOptions = { limit: 5, windowMs: 60_000 }
  const middleware = rateLimit(limitOptions)
  const key: string = ipKeyGenerator('::1', 56)
  const guardOptions = {} as LoginGuardOptions
  void [middleware, key, RampartStore, LoginGuard, guardOptions]
}
void surface
// rampart/mfa, rampart/events and the CSRF middleware (issue 16).
import { RecoveryCodes, TotpGuard, deriveKey as mfaDeriveKey, type TotpGuardResult } from '../js/mfa.js'
import { NAMES, channels, mfaFailed } from '../js/events.js'
import { csrf, type CsrfCode } from '../js/express.js'
import { Totp, type TotpMatch } from '../index.js'

async function mfaUsage(): Promise<void> {
  const totp = new Totp({ secret: Totp.generateSecret(), algorithm: 'SHA256', digits: 8 })
  const match: TotpMatch | null = totp.verify('12345678', { lastStep: 5, window: 1 })
  const uri: string = totp.uri({ issuer: 'ACME', account: 'a@b.c' })
  const svg: string = totp.qrSvg({ issuer: 'ACME', account: 'a@b.c', size: 200 })
  const guard = new TotpGuard({ maxConsecutiveFailures: 5 })
  const result: TotpGuardResult = await guard.verify({ totp, code: '123456', account: 1, ip: '::1' })
  if (result.ok) console.log(result.step, match, uri, svg)
  const recovery = new RecoveryCodes({ key: mfaDeriveKey(Buffer.alloc(32), 'recovery-codes') })
  const codes: string[] = await recovery.reset('1')
  const used = await recovery.consume('1', codes[0])
  if (used.ok) console.log(used.remaining)
  const name: 'rampart:mfa.failed' = NAMES.mfaFailed
  console.log(name, channels.csrfRejected.hasSubscribers)
  mfaFailed({ account: 1, reason: 'invalid' })
  const middleware = csrf({ secret: Buffer.alloc(32), getSessionId: (req) => req.sessionId })
  const code: CsrfCode = 'ERR_CSRF_ORIGIN'
  console.log(middleware, code)
  // @ts-expect-error the algorithm names are upper case
  new Totp({ secret: 'x', algorithm: 'sha1' })
}
void mfaUsage
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

// redactedDestination: a pino destination.
const destination = redactedDestination({ destination: '/tmp/app.log', redact: { keys: ['pin'] } })
destination.on('error', (error: Error) => void error)
destination.flush((error) => void error)
const ok: boolean = destination.write('{"a":1}\n')
void ok
destination.end()
// @ts-expect-error destination is required
redactedDestination({})
