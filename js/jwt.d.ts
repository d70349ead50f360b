// Types used by the JWT bindings in ../index.d.ts (hand-written; checked with `tsc --noEmit`).

/** The JWS algorithms rampart signs and verifies. `none` is never one of them. */
export type JwtAlgorithm =
  | 'HS256' | 'HS384' | 'HS512'
  | 'RS256' | 'RS384' | 'RS512'
  | 'PS256' | 'PS384' | 'PS512'
  | 'ES256' | 'ES384'
  | 'EdDSA'

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
