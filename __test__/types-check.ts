// Compiled with `tsc --noEmit` (part of `npm test`): the published types accept what the README
// shows and reject what the addon rejects at run time.
import {
  Keyring,
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
}
void usage
