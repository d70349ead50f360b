// Types used by the JWT bindings in ../index.d.ts (hand-written; checked with `tsc --noEmit`).

/** The JWS algorithms rampart signs and verifies. `none` is never one of them. */
export type JwtAlgorithm =
  | 'HS256' | 'HS384' | 'HS512'
  | 'RS256' | 'RS384' | 'RS512'
  | 'PS256' | 'PS384' | 'PS512'
  | 'ES256' | 'ES384' | 'ES512'
  | 'EdDSA' | 'Ed25519'

/** A JWT claims set: the registered claims (RFC 7519 §4.1, times in seconds) and your own. */
export interface JwtPayload {
  iss?: string
  sub?: string
  aud?: string | string[]
  exp?: number
  nbf?: number
  iat?: number
  jti?: string
  [claim: string]: unknown
}

/** A JOSE protected header. */
export interface JwtHeader {
  alg: string
  typ?: string
  kid?: string
  crit?: string[]
  [parameter: string]: unknown
}

/** A public JWK Set, as `signer.jwks()` returns and `/.well-known/jwks.json` serves. */
export interface JsonWebKeySet {
  keys: import('node:crypto').JsonWebKey[]
}

/** Options of `RemoteJwks` (all times in milliseconds). */
export interface RemoteJwksOptions {
  /** How long a fetched set is fresh. Default 600000 (10 min); refreshed in the background from 80% of it. */
  cacheMaxAgeMs?: number
  /** Least time between two fetches (unknown `kid`s, failed refreshes). Default 30000. */
  cooldownMs?: number
  /** How long past `cacheMaxAgeMs` the last good set still verifies while refreshes fail. Default 86400000 (24 h); then verification fails closed (ERR_JWKS_UNAVAILABLE). */
  maxStaleMs?: number
  /** Timeout of one fetch, body included. Default 5000. */
  timeoutMs?: number
  /** Largest response body, in bytes. Default 262144. */
  maxBodyBytes?: number
  /** Extra request headers. */
  headers?: Record<string, string>
  /** Allow an `http:` URL for localhost, 127.0.0.1 and [::1] (tests, sidecars). Default false. */
  allowHttpLocalhost?: boolean
  /** Called once per outage (the first failed fetch after a good one) with an ERR_JWKS_* error. */
  onError?: (error: Error & { code: string }) => void
  /** The fetch function. Default: Node's global `fetch`. */
  fetch?: typeof globalThis.fetch
}

/** A JWK Set fetched from a URL and kept fresh: pass it as `key` to `JwtVerifier`. */
export declare class RemoteJwks {
  constructor(url: string | URL, options?: RemoteJwksOptions)
  /** Fetches the set if none is cached; rejects with ERR_JWKS_UNAVAILABLE when that fails. */
  ready(): Promise<void>
  /** How many fetches were started. */
  get fetchCount(): number
}

declare module '../index.js' {
  interface JwtSigner {
    /** The public JWK Set of this signer's key (needs an asymmetric key and a key id). */
    jwks(): JsonWebKeySet
  }
  interface JwtVerifier {
    /** `verify` as a Promise; with a `RemoteJwks` it waits for a needed key-set fetch. */
    verifyAsync(token: string, options?: import('../index.js').JwtCallOptions): Promise<JwtPayload>
  }
}
