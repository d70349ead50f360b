// Types for `rampart/express` (hand-written; checked with `tsc --noEmit` in `npm test`).
import type { JwtVerifier, RateLimitResult, RateLimiter, Redactor } from './index.js'
import type { RedisRateLimiter } from './redis.js'
export { RampartRedisStore, type RampartRedisStoreOptions } from './redis.js'

/** What `rateLimit` needs from a store: the native `RateLimiter`, or your own (sync or async). */
export interface RateLimitStore {
  hit(key: string, cost?: number): RateLimitResult | Promise<RateLimitResult>
  peek(key: string, cost?: number): RateLimitResult | Promise<RateLimitResult>
  reset(key: string): unknown
}

/** The smallest request/response shape the middleware uses (Express 4 and 5 both fit). */
export interface RateLimitRequest {
  ip?: string
  headers: Record<string, string | string[] | undefined>
  app?: { get(setting: string): unknown }
  rateLimit?: RateLimitInfo
}
export interface RateLimitResponse {
  statusCode: number
  writableFinished?: boolean
  setHeader(name: string, value: string): unknown
  append?(name: string, value: string): unknown
  status(code: number): RateLimitResponse
  send(body: unknown): unknown
  json(body: unknown): unknown
  once(event: 'finish' | 'close', listener: () => void): unknown
}
export type NextFunction = (error?: unknown) => void

/** Set on `req.rateLimit` for every request that reaches the limiter. */
export interface RateLimitInfo {
  limit: number
  used: number
  remaining: number
  resetTime: Date
  key: string
}

export interface RateLimitOptions {
  /** Requests allowed per window per client. Default 5. */
  limit?: number
  /** Window in milliseconds. Default 60000. */
  windowMs?: number
  /** Default `'gcra'`: a client may burst `limit` requests, then gets one more every `windowMs / limit`. */
  algorithm?: 'gcra' | 'fixed-window' | 'sliding-window'
  /** Most clients tracked at once. Default 1000000. */
  maxKeys?: number
  /** When `maxKeys` live clients are tracked: deny new ones (default) or evict the one nearest to expiry. */
  whenFull?: 'reject' | 'evict-oldest'
  /** Share counts with every limiter of this name in the process (all worker threads). */
  name?: string
  /**
   * Storage; default a native `RateLimiter` built from the options above. A `RedisRateLimiter`
   * (from 'rampart/redis') shares the counts between processes; `limit` and `windowMs` then
   * default to the store's.
   */
  store?: RateLimitStore | RateLimiter | RedisRateLimiter
  /** The client key. Default: `req.ip`, IPv4-mapped addresses unwrapped, IPv6 reduced to a /56. */
  keyGenerator?: (req: any, res: any) => string
  /** Prefix length kept for IPv6 clients by the default key (32-64), or false. Default 56. */
  ipv6Subnet?: number | false
  /** Requests for which this returns true are not counted or limited. */
  skip?: (req: any, res: any) => boolean
  /** Count only failed requests (status >= 400 by default): for login routes. */
  skipSuccessfulRequests?: boolean
  /** Count only successful requests. */
  skipFailedRequests?: boolean
  /** What counts as success for the two options above. Default: status < 400. */
  requestWasSuccessful?: (req: any, res: any) => boolean
  /** Sends the denial. Default: `statusCode` with `message` (JSON if an object). */
  handler?: (req: any, res: any, next: NextFunction, options: RateLimitOptions) => unknown
  /** Default 429. */
  statusCode?: number
  /** Default 'Too many requests, please try again later.' */
  message?: unknown
  /** IETF RateLimit header fields: 'draft-8' (default), 'draft-7', 'draft-6' (also `true`), or false. */
  standardHeaders?: boolean | 'draft-6' | 'draft-7' | 'draft-8'
  /** Also send X-RateLimit-Limit/Remaining/Reset (epoch seconds). Default false. */
  legacyHeaders?: boolean
  /** The policy name in draft-8 headers. Default like `100-in-15min`. */
  identifier?: string
}

export type RateLimitMiddleware = (req: any, res: any, next: NextFunction) => unknown

export declare function rateLimit(options?: RateLimitOptions): RateLimitMiddleware

/** The default key for a client address: IPv4 as is, IPv4-mapped IPv6 unwrapped, IPv6 masked to `ipv6Subnet`. */
export declare function ipKeyGenerator(ip: string | undefined, ipv6Subnet?: number | false): string

/** A store for express-rate-limit: `rateLimit({ store: new RampartStore() })` from 'express-rate-limit'. */
export declare class RampartStore {
  constructor(options?: { name?: string; maxKeys?: number })
  readonly localKeys: boolean
  readonly prefix: string
  init(options: { windowMs?: number }): void
  get(key: string): { totalHits: number; resetTime: Date } | undefined
  increment(key: string): { totalHits: number; resetTime: Date }
  decrement(key: string): void
  resetKey(key: string): void
  resetAll(): void
}

/** What a LoginGuard limiter must do: `RateLimiter`, `RedisRateLimiter` or your own (sync or async). */
export interface LoginGuardLimiter {
  hit(key: string): RateLimitResult | Promise<RateLimitResult>
  refund(key: string): unknown
  reset(key: string): unknown
}

export interface LoginGuardOptions {
  /** Failures allowed per account+client before it must wait. Default 10. */
  maxConsecutiveFailures?: number
  /** After those, one more attempt per this many milliseconds. Default 3600000 (1 hour). */
  blockMs?: number
  /** Failures allowed per account per day, over all clients (credential stuffing). Default 100. */
  maxFailuresPerAccountPerDay?: number
  /** Failures allowed per client per day, over all accounts. Default 100. */
  maxFailuresPerIpPerDay?: number
  /** IPv6 prefix length that makes one client (32-64), or false for whole addresses. Default 56. */
  ipv6Subnet?: number | false
  /** Slow down attempts on an account with many recent failures instead of only locking it. Default off. */
  progressiveDelay?: boolean | { afterFailures?: number; baseMs?: number; maxMs?: number }
  /** Builds the three limiters (default: in-memory `RateLimiter`s); use it for a shared store such as Redis. */
  createLimiter?: (options: { purpose: 'pair' | 'account' | 'client'; limit: number; windowMs: number }) => LoginGuardLimiter
  /** Longest wait for a store call, in ms. Default 1000. */
  timeoutMs?: number
  /** When a store fails or times out: block the attempt ('fail-closed', default) or let it through. */
  onStoreError?: 'fail-closed' | 'fail-open'
  /** For the default in-memory limiters: most keys tracked (a full table blocks new keys). */
  maxKeys?: number
  /** For the default in-memory limiters: share the counts across worker threads under this name. */
  name?: string
}
export interface LoginAttempt {
  username: string
  /** `req.ip`: IPv6 addresses are grouped by `ipv6Subnet`. */
  ip: string
}

export interface LoginGate {
  /** False when any limit is reached or a store failed (fail-closed): answer 429 with Retry-After. */
  allowed: boolean
  retryAfterMs: number
  /** How long `begin` waited (progressive delay), in ms. */
  delayMs: number
  reason: 'ok' | 'limited' | 'store-error'
  /** The password was right: give the reservation back and clear this account+client's record. */
  success(): Promise<void>
  /** The password was wrong (or the account unknown): the reservation stays as the failure. */
  failure(): Promise<void>
}

/** Login brute-force protection: reserve an attempt before checking the password, settle it after. */
export declare class LoginGuard {
  constructor(options?: LoginGuardOptions)
  begin(attempt: LoginAttempt): Promise<LoginGate>
}

export interface RequireJwtOptions {
  /** Verifies the token; its payload becomes `req.auth` (or `req[requestProperty]`). */
  verifier: Pick<JwtVerifier, 'verify'>
  /** The `realm` of the `WWW-Authenticate` challenge. Default 'api'. */
  realm?: string
  /** Where the payload goes on `req`. Default 'auth'. */
  requestProperty?: string
  /** When false, requests without a token pass through unauthenticated. Default true. */
  credentialsRequired?: boolean
  /** Reads the token: return null when absent, undefined when malformed. Default: `Authorization: Bearer`. */
  getToken?: (req: any) => string | null | undefined
}

/** Requires a valid Bearer JWT: `req.auth` is its payload; otherwise 401 with RFC 6750 `WWW-Authenticate`. */
export declare function requireJwt(options: RequireJwtOptions): RateLimitMiddleware

/**
 * Serves a public JWK Set (mount at `/.well-known/jwks.json`) from signers, JWK Sets or public JWKs,
 * with `Cache-Control: public, max-age=<maxAgeSeconds>` (default 300). Private keys are refused.
 */
export declare function jwksHandler(
  ...sources: Array<{ jwks(): import('./jwt.js').JsonWebKeySet } | import('./jwt.js').JsonWebKeySet | import('node:crypto').JsonWebKey | { maxAgeSeconds?: number }>
): (req: any, res: any) => void
/** Allows only requests whose `req.auth.role` (or `req.auth.roles`) holds one of `roles`: 401 or 403 otherwise. */
export declare function authorize(...roles: Array<string | string[]>): RateLimitMiddleware

export interface ErrorHandlerOptions {
  /** Where errors are logged (for example a pino logger with `pinoRedaction`). Default: redacted JSON on stderr. */
  logger?: { error(fields: object): unknown }
  /** Redacts stack traces and messages. Default: a `new Redactor()`. */
  redactor?: Redactor
  /** Generic 5xx bodies and no raw 4xx messages. Default: true unless `process.env.NODE_ENV === 'development'` (an unset NODE_ENV counts as production). */
  production?: boolean
}
/** The last middleware: logs the error and answers with a generic message in production. */
export declare function errorHandler(options?: ErrorHandlerOptions): (error: any, req: any, res: any, next: NextFunction) => unknown

export interface CsrfCookieOptions {
  /** Default true (required by the `__Host-` prefix). */
  secure?: boolean
  /** Default true: page scripts never need the cookie, only the token `req.csrfToken()` returns. */
  httpOnly?: boolean
  /** Default 'Lax'. */
  sameSite?: 'Strict' | 'Lax' | 'None'
  /** Default '/' (required by `__Host-`). */
  path?: string
  /** Not allowed with the `__Host-` prefix. */
  domain?: string
  /** Milliseconds; default: a session cookie. */
  maxAge?: number
}

export interface CsrfOptions {
  /**
   * The master secret (32+ bytes, or hex/base64 text of them), or several, newest first, while
   * rotating. The HMAC key is its HKDF subkey for 'csrf'. Never the JWT or Keyring key.
   */
  secret: string | Uint8Array | Array<string | Uint8Array>
  /** The id of the session the request belongs to (tokens are bound to it); falsy for none. */
  getSessionId: (req: any) => string | number | null | undefined
  /** Default '__Host-csrf'. */
  cookieName?: string
  cookie?: CsrfCookieOptions
  /** Default 'x-csrf-token'. */
  headerName?: string
  /** Field of a parsed form or JSON body. Default '_csrf'. */
  fieldName?: string
  /** Origins allowed to send unsafe requests. Default: the request's own (protocol + Host). */
  origins?: string | string[]
  /** Methods not checked. Default GET, HEAD, OPTIONS, TRACE. */
  ignoredMethods?: string[]
  /** Sends the refusal. Default: 403 `{ error: 'forbidden', code }`. */
  handler?: (req: any, res: any, next: NextFunction, code: CsrfCode) => unknown
}

export type CsrfCode = 'ERR_CSRF_CROSS_SITE' | 'ERR_CSRF_ORIGIN' | 'ERR_CSRF_TOKEN_MISSING' | 'ERR_CSRF_TOKEN_INVALID' | 'ERR_CSRF_NO_SESSION'

/** CSRF middleware (Fetch Metadata + Origin, then a session-bound signed double-submit cookie). Sets `req.csrfToken()`. */
export declare function csrf(options: CsrfOptions): RateLimitMiddleware

export declare const CSRF_CODES: {
  readonly crossSite: 'ERR_CSRF_CROSS_SITE'
  readonly origin: 'ERR_CSRF_ORIGIN'
  readonly missing: 'ERR_CSRF_TOKEN_MISSING'
  readonly invalid: 'ERR_CSRF_TOKEN_INVALID'
  readonly noSession: 'ERR_CSRF_NO_SESSION'
}

/** A 32-byte HKDF-SHA-256 subkey of `master` for `purpose`. */
export declare function deriveKey(master: string | Uint8Array, purpose: string): Buffer
