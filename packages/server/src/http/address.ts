import { getConnInfo } from '@hono/node-server/conninfo'
import type { Context } from 'hono'

/**
 * The address a request came from: the TCP peer, or — when the operator says a reverse proxy of
 * theirs stands in front (SESSION_KIT_TRUST_PROXY) — the first address of X-Forwarded-For. Never
 * trust that header otherwise: any client can write it.
 */
export function clientAddress(c: Context, trustProxy: boolean): string {
  if (trustProxy) {
    const forwarded = c.req.header('x-forwarded-for')?.split(',')[0]?.trim()
    if (forwarded) return forwarded
  }
  try {
    return getConnInfo(c).remote.address ?? 'unknown'
  } catch {
    // Mounted in a host app served by something other than @hono/node-server.
    return 'unknown'
  }
}
