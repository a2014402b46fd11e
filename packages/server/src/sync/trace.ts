/** The time on the shared clock of every thread and process on this machine, in milliseconds. */
export const traceNow = () => performance.timeOrigin + performance.now()

const MAX_SAMPLES = 200_000

/**
 * Where a keystroke's time goes on the server, for the benchmarks: for each accepted batch, when
 * its frame arrived and when its relay was written to every peer's socket. Kept only when the
 * server runs with SESSION_KIT_TRACE=1, and read (and emptied) by a benchmark's probe through
 * `globalThis.__sessionKitTrace.drain()`.
 */
export class Trace {
  #samples: { receivedAt: number; relayedAt: number }[] = []

  record(receivedAt: number) {
    if (this.#samples.length < MAX_SAMPLES) this.#samples.push({ receivedAt, relayedAt: traceNow() })
  }

  drain() {
    return this.#samples.splice(0)
  }

  /** A trace when SESSION_KIT_TRACE=1, published for the benchmarks' probe; otherwise none. */
  static fromEnv(): Trace | undefined {
    if (process.env.SESSION_KIT_TRACE !== '1') return undefined
    const g = globalThis as { __sessionKitTrace?: Trace }
    g.__sessionKitTrace ??= new Trace()
    return g.__sessionKitTrace
  }
}
