import type { Role } from '@session-kit/core'

/** The claims of a room token the page may read. */
export interface TokenClaims {
  sid?: string
  sub?: string
  role?: Role
  exp?: number
}

/**
 * A JWT's claims, read without verifying the signature: the page only uses them to decide what to
 * ask for (when to refresh, whose unsent edits to keep, whether to fetch Automerge early). The
 * server verifies every token it is given.
 */
export function tokenClaims(token: string | undefined): TokenClaims {
  if (!token) return {}
  try {
    const claims = JSON.parse(atob(token.split('.')[1]!.replace(/-/g, '+').replace(/_/g, '/'))) as unknown
    return claims !== null && typeof claims === 'object' ? (claims as TokenClaims) : {}
  } catch {
    return {}
  }
}

/** Seconds since the epoch when a token expires, or null when it does not say. */
export function tokenExpiry(token: string | undefined): number | null {
  const { exp } = tokenClaims(token)
  return typeof exp === 'number' ? exp : null
}
