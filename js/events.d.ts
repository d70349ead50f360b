// Types for `rampart/events` (hand-written; checked with `tsc --noEmit` in `npm test`).
import type { Channel } from 'node:diagnostics_channel'

export declare const NAMES: {
  readonly loginBlocked: 'rampart:login.blocked'
  readonly rateLimitDenied: 'rampart:ratelimit.denied'
  readonly jwtRejected: 'rampart:jwt.rejected'
  readonly mfaFailed: 'rampart:mfa.failed'
  readonly recoveryCodeUsed: 'rampart:recovery-code.used'
  readonly csrfRejected: 'rampart:csrf.rejected'
  readonly storeOutage: 'rampart:store.outage'
}

export declare const channels: { readonly [K in keyof typeof NAMES]: Channel }

interface Base {
  /** Date.now() when published. */
  time: number
}
export interface LoginBlockedEvent extends Base { event: 'login.blocked'; account?: string; ip?: string; retryAfterMs?: number }
export interface RateLimitDeniedEvent extends Base { event: 'ratelimit.denied'; key?: string; ip?: string; method?: string; path?: string; limit?: number; retryAfterMs?: number }
export interface JwtRejectedEvent extends Base { event: 'jwt.rejected'; code?: string; ip?: string; method?: string; path?: string }
export interface MfaFailedEvent extends Base { event: 'mfa.failed'; account?: string; ip?: string; method: string; reason?: 'invalid' | 'replayed' | 'blocked' }
export interface RecoveryCodeUsedEvent extends Base { event: 'recovery-code.used'; account?: string; ip?: string; remaining?: number }
export interface CsrfRejectedEvent extends Base { event: 'csrf.rejected'; code?: string; ip?: string; method?: string; path?: string; site?: string }
export interface StoreOutageEvent extends Base { event: 'store.outage'; store?: string; operation?: string; failOpen?: boolean; error?: string }

export function pathOf(req: { originalUrl?: string; url?: string }): string | undefined
export function loginBlocked(fields: { account?: string | number; ip?: string; retryAfterMs?: number }): void
export function rateLimitDenied(fields: { key?: string; ip?: string; method?: string; path?: string; limit?: number; retryAfterMs?: number }): void
export function jwtRejected(fields: { code?: string; ip?: string; method?: string; path?: string }): void
export function mfaFailed(fields: { account?: string | number; ip?: string; reason?: string; method?: string }): void
export function recoveryCodeUsed(fields: { account?: string | number; ip?: string; remaining?: number }): void
export function csrfRejected(fields: { code?: string; ip?: string; method?: string; path?: string; site?: string }): void
export function storeOutage(fields: { store?: string; operation?: string; failOpen?: boolean; error?: unknown }): void
