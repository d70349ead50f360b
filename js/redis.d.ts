// Types for `rampart/redis` (hand-written; checked with `tsc --noEmit` in `npm test`).
import { EventEmitter } from 'node:events'

import type { RateLimitResult } from '../index.js'

/**
 * Your Redis client: an ioredis `Redis` or `Cluster`, or a node-redis (v4+) client or cluster
 * (`createClient`/`createCluster`). rampart only calls EVALSHA and EVAL on it.
 */
export type RedisClientLike =
  | { evalsha(...args: any[]): Promise<unknown>; eval(...args: any[]): Promise<unknown> }
  | { evalSha(...args: any[]): Promise<unknown>; eval(...args: any[]): Promise<unknown> }

export interface RedisRateLimiterOptions {
  /** The Redis client (see `RedisClientLike`); connect and close it yourself. */
  client: RedisClientLike
  /** Units allowed per window (1 to 4294967295). With `gcra`, also the largest burst. */
  limit: number
  /** Window length in milliseconds (1 to 4294967295). */
  windowMs: number
  /** `'gcra'` (default), `'fixed-window'` or `'sliding-window'`: the same semantics as `RateLimiter`. */
  algorithm?: 'gcra' | 'fixed-window' | 'sliding-window'
  /** Start of every Redis key: `<prefix>{<key>}`. Default `'rampart:'`. Use one prefix per limit. */
  prefix?: string
  /** How long a call waits for Redis before `onStoreError` answers it (1 to 60000). Default 50. */
  timeoutMs?: number
  /**
   * When Redis fails, times out or answers garbage: `'local'` (default) limits in this process
   * with a native `RateLimiter` of the same options until Redis answers again; `'fail-closed'`
   * denies (retryAfterMs 1000); `'fail-open'` allows.
   */
  onStoreError?: 'local' | 'fail-closed' | 'fail-open'
  /** Most keys the `'local'` fallback tracks. Default 1000000. */
  maxKeys?: number
  /** Most denied keys remembered locally until their retry time (0 turns the cache off). Default 100000. */
  localCacheKeys?: number
  /** Group batched calls by hash slot. Default: detected from the client. */
  cluster?: boolean
}

export interface RedisRateLimiterStats {
  /** Calls made (hit, peek, refund, reset). */
  calls: number
  /** EVALSHA/EVAL commands sent (one per batch; a NOSCRIPT retry counts twice). */
  scriptCalls: number
  /** Hits and peeks denied from the local cache, without a round trip. */
  localDenials: number
  /** Redis errors, timeouts and unusable replies. */
  storeErrors: number
  /** Times Redis went from up to down. */
  outages: number
  /** Calls answered by `onStoreError`. */
  fallbackAnswers: number
  /** False from a failed call until a call succeeds again. */
  redisUp: boolean
  /** Denied keys in the local cache now. */
  cachedDenials: number
}

/**
 * A rate limiter shared through Redis by every process that uses the same prefix. Each method
 * returns a promise that rejects only on bad arguments, never because of Redis.
 * Events: `'outage'` (an `Error` with code `ERR_RAMPART_REDIS`, `ERR_RAMPART_REDIS_TIMEOUT` or
 * `ERR_RAMPART_REDIS_REPLY`), once per outage; `'recover'` when Redis answers again. Without an
 * `'outage'` listener, an outage emits one process warning (`RAMPART_REDIS_OUTAGE`).
 */
export declare class RedisRateLimiter extends EventEmitter {
  constructor(options: RedisRateLimiterOptions)
  readonly limit: number
  readonly windowMs: number
  readonly algorithm: 'gcra' | 'fixed-window' | 'sliding-window'
  readonly prefix: string
  /** Spends `cost` units (default 1, at most `limit`) of `key`'s budget if available. */
  hit(key: string, cost?: number): Promise<RateLimitResult>
  /** What `hit` would answer, without spending anything. */
  peek(key: string, cost?: number): Promise<RateLimitResult>
  /** Gives back up to `cost` units (default 1) spent in the current window. */
  refund(key: string, cost?: number): Promise<void>
  /** Forgets `key`; resolves whether Redis held it. */
  reset(key: string): Promise<boolean>
  stats(): RedisRateLimiterStats
}

export interface RampartRedisStoreOptions {
  client: RedisClientLike
  /** Default `'rampart:erl:'`. */
  prefix?: string
  timeoutMs?: number
  /** Default `'local'`. `'fail-closed'` makes express-rate-limit deny, `'fail-open'` allow. */
  onStoreError?: 'local' | 'fail-closed' | 'fail-open'
  cluster?: boolean
}

/** An express-rate-limit store over Redis: `rateLimit({ store: new RampartRedisStore({ client }) })`. */
export declare class RampartRedisStore {
  constructor(options: RampartRedisStoreOptions)
  readonly localKeys: boolean
  readonly prefix: string
  init(options: { windowMs?: number }): void
  get(key: string): Promise<{ totalHits: number; resetTime: Date } | undefined>
  increment(key: string): Promise<{ totalHits: number; resetTime: Date }>
  decrement(key: string): Promise<void>
  resetKey(key: string): Promise<void>
}

export interface RedisTotpStepStoreOptions {
  /** The Redis client (see `RedisClientLike`); connect and close it yourself. */
  client: RedisClientLike
  /** Start of every Redis key: `<prefix>{<account>}`. Default `'rampart:totp:'`. */
  prefix?: string
  /** How long a call waits for Redis before it rejects with `ERR_RAMPART_REDIS_TIMEOUT` (1 to 60000). Default 500. */
  timeoutMs?: number
}

/**
 * TotpGuard's replay protection shared by every instance: `new TotpGuard({ store: new
 * RedisTotpStepStore({ client }) })`. A Redis error or timeout rejects (codes
 * `ERR_RAMPART_REDIS*`) and TotpGuard then refuses the code: fail closed.
 */
export declare class RedisTotpStepStore {
  constructor(options: RedisTotpStepStoreOptions)
  readonly prefix: string
  /** The last accepted step of `account`, or null. */
  get(account: string): Promise<number | null>
  /** Stores `step` (TTL `ttlMs`) if it is after the stored one, atomically; resolves whether it did. */
  advance(account: string, step: number, ttlMs: number): Promise<boolean>
}
