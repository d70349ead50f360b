// Types for `rampart/mfa` (hand-written; checked with `tsc --noEmit` in `npm test`).
import type { RateLimitResult, Totp } from '../index.js'

export { Totp }

/**
 * A 32-byte subkey of `master` for one purpose ('csrf', 'recovery-codes', ...): HKDF-SHA-256,
 * info `rampart:<purpose>`. `master`: 32+ bytes, or hex/base64 text of them; never the JWT or
 * Keyring key.
 */
export function deriveKey(master: string | Uint8Array, purpose: string): Buffer

/**
 * Where TotpGuard keeps the last accepted step per account. With several instances use a shared
 * one, `RedisTotpStepStore` from `rampart/redis` (or your own over a database), so the same code
 * is refused on every instance. `advance` must be atomic: store
 * `step` only if it is greater than the stored one (or none), and say whether it did.
 */
export interface TotpStepStore {
  /** The stored step: a number, a numeric string (as Redis returns), or null/undefined for none. */
  get(account: string): number | string | null | undefined | Promise<number | string | null | undefined>
  advance(account: string, step: number, ttlMs: number): boolean | Promise<boolean>
}

/** The counting TotpGuard needs: the native RateLimiter, or your own (sync or async). */
export interface AttemptLimiter {
  peek(key: string): RateLimitResult | Promise<RateLimitResult>
  hit(key: string): unknown
  reset(key: string): unknown
}

export class MemoryStepStore implements TotpStepStore {
  get(account: string): number | null
  advance(account: string, step: number, ttlMs: number): boolean
  readonly size: number
}

export interface TotpGuardOptions {
  /** Default: a MemoryStepStore (this process only). */
  store?: TotpStepStore
  /** Default: a native RateLimiter built from the two options below. */
  limiter?: AttemptLimiter
  /** Wrong codes allowed in a row per account. Default 5. */
  maxConsecutiveFailures?: number
  /** After that, one more guess per this many milliseconds. Default 300000 (5 minutes). */
  blockMs?: number
  /** Most accounts tracked by the default limiter. */
  maxKeys?: number
  /** Share the default limiter by name across worker threads. */
  name?: string
  /** Overrides each Totp's window. */
  window?: number
}

export type TotpGuardResult =
  | { ok: true; step: number; delta: number }
  | { ok: false; reason: 'invalid' | 'replayed'; retryAfterMs?: undefined }
  | { ok: false; reason: 'blocked'; retryAfterMs: number }

export interface TotpAttempt {
  totp: Totp
  /** What the user typed; anything but a string of the right digits is a failed attempt. */
  code: unknown
  /** The user id (not the email: it is published in events). */
  account: string | number
  /** For events only. */
  ip?: string
  /** Unix seconds; default now. */
  time?: number
}

export class TotpGuard {
  constructor(options?: TotpGuardOptions)
  verify(attempt: TotpAttempt): Promise<TotpGuardResult>
  resetAttempts(account: string | number): Promise<void>
}

/** Hashes of the unused recovery codes per account. `consume` must delete atomically. */
export interface RecoveryCodeStore {
  replace(account: string, hashes: string[]): unknown
  consume(account: string, hash: string): boolean | Promise<boolean>
  count(account: string): number | Promise<number>
}

export class MemoryRecoveryStore implements RecoveryCodeStore {
  replace(account: string, hashes: string[]): void
  consume(account: string, hash: string): boolean
  count(account: string): number
}

export interface RecoveryCodesOptions {
  /** 32 bytes or more: `deriveKey(master, 'recovery-codes')`. */
  key: Uint8Array
  /** Default: a MemoryRecoveryStore. */
  store?: RecoveryCodeStore
  /** Codes per account, 1 to 100. Default 10. */
  count?: number
}

export class RecoveryCodes {
  constructor(options: RecoveryCodesOptions)
  hash(code: unknown): string | null
  generate(): { codes: string[]; hashes: string[] }
  reset(account: string | number): Promise<string[]>
  consume(account: string | number, code: unknown, context?: { ip?: string }): Promise<{ ok: true; remaining: number } | { ok: false }>
  remaining(account: string | number): Promise<number>
}

export function normalizeRecoveryCode(code: unknown): string | null
