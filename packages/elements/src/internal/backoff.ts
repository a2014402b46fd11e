/** Exponential backoff with jitter: 0.5 s, 1 s, 2 s … capped, each ±25 %. */
export function backoffDelay(attempt: number, { base = 500, cap = 30_000 } = {}): number {
  const d = Math.min(cap, base * 2 ** Math.max(0, attempt))
  return Math.round(d * (0.75 + Math.random() * 0.5))
}
