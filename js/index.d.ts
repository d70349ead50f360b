// The published types of the package entry point (js/index.js), hand-written and checked by
// `tsc` (__test__/types-check.ts). Everything the addon exports is re-exported from the
// generated ../index.d.ts; the four classes that js/index.js wraps are declared here as users get
// them. Their internal native methods (`_sign`, `_signingInput`, `_verify`, `_apply`) and the
// native methods the wrappers replace are left out of the generated file (`skip_typescript`).
import * as native from '../index.js'
import type { JwtPayload } from './jwt.js'

export * from '../index.js'
export type { JwtAlgorithm, JwtHeader, JwtPayload } from './jwt.js'

/** Signs JWTs with one key and algorithm. The key is parsed once and cannot be read back. */
export declare class JwtSigner extends native.JwtSigner {
  constructor(options: native.JwtSignerOptions)
  /**
   * Signs `payload` (a plain object of claims) and returns the compact token. Adds `iat` and
   * `exp` (seconds), and `nbf`, `iss`, `aud`, `sub` from the options.
   */
  sign(payload: JwtPayload, options?: native.JwtCallOptions): string
}

/** Verifies JWTs against a key or key set with a strict claims policy. */
export declare class JwtVerifier extends native.JwtVerifier {
  constructor(options: native.JwtVerifierOptions)
  /**
   * Verifies `token` (signature, algorithm, then claims) and returns its payload. Throws a
   * coded error (`ERR_JWT_*`) otherwise; messages never include the token.
   */
  verify(token: string, options?: native.JwtCallOptions): JwtPayload
}

/**
 * A rate limiter whose state lives in native memory, off the JavaScript heap. Every call is
 * synchronous and atomic, also when worker threads share a named limiter.
 */
export declare class RateLimiter extends native.RateLimiter {
  constructor(options: native.RateLimiterOptions)
  /**
   * Spends `cost` units (default 1, at most `limit`) of `key`'s budget if they are available.
   * A denied hit spends nothing.
   */
  hit(key: string, cost?: number): native.RateLimitResult
  /** What `hit` would answer, without spending anything. */
  peek(key: string, cost?: number): native.RateLimitResult
}

/**
 * Redacts secrets from log lines, JSON documents, objects and free text. Rules are compiled
 * once; the input is never modified.
 */
export declare class Redactor extends native.Redactor {
  constructor(options?: native.RedactorOptions)
  /**
   * A redacted copy of `value` (through JSON: what `JSON.stringify` keeps). The input is never
   * modified.
   */
  redact(value: unknown): any
}
