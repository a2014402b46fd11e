/**
 * Exponential backoff with jitter: 0.5 s, 1 s, then every 2 s, each ±25 %. The low cap is
 * what lets a room come back within 5 s of its server, however long the server was away (a
 * 30 s cap left people staring at "reconnecting" for up to 37 s after a long restart).
 */
export function backoffDelay(attempt: number, { base = 500, cap = 2_000 } = {}): number {
  const d = Math.min(cap, base * 2 ** Math.max(0, attempt))
  return Math.round(d * (0.75 + Math.random() * 0.5))
}
