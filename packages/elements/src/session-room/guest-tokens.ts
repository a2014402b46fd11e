import { tokenExpiry } from '../internal/token-claims.js'

/**
 * The room tokens of invited guests, kept on this device (localStorage) so a guest who accepted an
 * invitation comes back to the room after a reload or another visit, without the link: per server
 * and session, and — for pages that do not name a session, like the server's own invitation page —
 * which session the guest joined last on that server.
 */
const tokenKey = (base: string, sid: string) => `session-kit:guest:${base}|${sid}`
const lastKey = (base: string) => `session-kit:guest-last:${base}`

/** What this device holds for a session: a token still valid, one that expired, or nothing. */
export type StoredGuest = { token: string; expired: false } | { token: null; expired: true } | null

export function readGuestToken(base: string, sid: string): StoredGuest {
  const token = sid ? get(tokenKey(base, sid)) : null
  if (!token) return null
  const exp = tokenExpiry(token)
  if (exp !== null && exp <= Date.now() / 1000) return { token: null, expired: true }
  return { token, expired: false }
}

export function writeGuestToken(base: string, sid: string, token: string) {
  set(tokenKey(base, sid), token)
  set(lastKey(base), sid)
}

/** Let go of an expired guest token: it is never sent again. */
export function forgetGuestToken(base: string, sid: string) {
  remove(tokenKey(base, sid))
  if (get(lastKey(base)) === sid) remove(lastKey(base))
}

/** The session a guest last joined on this server from this device, if its token is still kept. */
export function lastGuestSession(base: string): string | null {
  const sid = get(lastKey(base))
  return sid && get(tokenKey(base, sid)) ? sid : null
}

// Storage may be blocked (private mode, a third-party frame): the guest then stays for this page only.
function get(key: string): string | null {
  try {
    return localStorage.getItem(key)
  } catch {
    return null
  }
}

function set(key: string, value: string) {
  try {
    localStorage.setItem(key, value)
  } catch {
    // Blocked: see above.
  }
}

function remove(key: string) {
  try {
    localStorage.removeItem(key)
  } catch {
    // Blocked: nothing was kept.
  }
}

/** What a guest whose kept token has expired is told. */
export const GUEST_EXPIRED = 'Your guest access to this session has expired: ask the instructor for a new invitation.'
