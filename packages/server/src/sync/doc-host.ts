import type { Worker } from 'node:worker_threads'
import { startWorker } from './decoder.js'
import type { DocRequest, Indexed, Loaded, StepResult } from './doc-worker.js'

type Reply<T> = { resolve: (v: T) => void; reject: (e: Error) => void }

/**
 * The event loop's side of the document thread (doc-worker.ts): typed requests, answered in the
 * order they were sent. Fire-and-forget requests (`apply`, `forget`, `drop`) are ordered with the
 * rest, so a handshake asked for after `apply` sees those changes.
 *
 * If the thread dies (out of memory, say), every room's document with it: `onLost` is called so
 * the hub closes those rooms' connections (clients rejoin and the rooms load again), and a new
 * thread starts with the next request.
 */
export class DocHost {
  #worker?: Worker
  #waiting = new Map<number, Reply<unknown>>()
  #nextId = 1
  #closed = false
  /** Committed changes waiting to be posted, by room: one message per turn of the event loop, not one per keystroke. */
  #applies = new Map<string, Uint8Array[]>()
  #applyScheduled = false

  constructor(
    private readonly log: (msg: string) => void,
    private readonly onLost: () => void,
  ) {}

  #thread(): Worker {
    if (this.#worker) return this.#worker
    const worker = startWorker(new URL(import.meta.url.endsWith('.ts') ? './doc-worker.ts' : './doc-worker.js', import.meta.url), 4096)
    worker.on('message', (reply: { id: number; ok: boolean; value?: unknown; error?: string }) => {
      const w = this.#waiting.get(reply.id)
      if (!w) return
      this.#waiting.delete(reply.id)
      if (reply.ok) w.resolve(reply.value)
      else w.reject(new Error(reply.error))
    })
    worker.on('error', (e) => this.log(`the document thread stopped: ${e.message}`))
    worker.on('exit', () => {
      if (this.#worker !== worker) return
      this.#worker = undefined
      for (const w of this.#waiting.values()) w.reject(new Error('The document thread stopped.'))
      this.#waiting.clear()
      if (!this.#closed) this.onLost()
    })
    worker.unref()
    this.#worker = worker
    return worker
  }

  #ask<T>(req: DocRequest, transfer: ArrayBuffer[] = []): Promise<T> {
    if (this.#closed) return Promise.reject(new Error('The server is shutting down.'))
    // Whatever was committed before this request reaches the thread before it.
    this.#flushApplies()
    const id = this.#nextId++
    return new Promise<T>((resolve, reject) => {
      this.#waiting.set(id, { resolve: resolve as (v: unknown) => void, reject })
      this.#thread().postMessage({ id, req }, transfer)
    })
  }

  #tell(req: DocRequest) {
    if (this.#closed) return
    this.#flushApplies()
    this.#thread().postMessage({ id: 0, req })
  }

  #flushApplies() {
    if (!this.#applies.size || this.#closed) return
    const rooms = [...this.#applies]
    this.#applies.clear()
    this.#thread().postMessage({ id: 0, req: { op: 'apply-many', rooms } satisfies DocRequest })
  }

  load(sid: string, base: Uint8Array, chunks: { id: number; data: Uint8Array }[]) {
    return this.#ask<Loaded>({ op: 'load', sid, base, chunks })
  }

  index(sid: string, chunks: Uint8Array[]) {
    return this.#ask<Indexed>({ op: 'index', sid, chunks })
  }

  /** Committed changes, in commit order (posted at the end of this turn, with every other room's). */
  apply(sid: string, changes: Uint8Array[]) {
    const waiting = this.#applies.get(sid)
    if (waiting) waiting.push(...changes)
    else this.#applies.set(sid, [...changes])
    if (this.#applyScheduled) return
    this.#applyScheduled = true
    setImmediate(() => {
      this.#applyScheduled = false
      this.#flushApplies()
    })
  }

  start(sid: string, peer: number) {
    return this.#ask<Uint8Array | null>({ op: 'start', sid, peer })
  }

  step(sid: string, peer: number, message: Uint8Array) {
    return this.#ask<StepResult>({ op: 'step', sid, peer, message })
  }

  forget(sid: string, peer: number) {
    this.#tell({ op: 'forget', sid, peer })
  }

  save(sid: string) {
    return this.#ask<{ bytes: Uint8Array; heads: string[] }>({ op: 'save', sid })
  }

  changes(sid: string, hashes: string[]) {
    return this.#ask<(Uint8Array | null)[]>({ op: 'changes', sid, hashes })
  }

  all(sid: string) {
    return this.#ask<Uint8Array[]>({ op: 'all', sid })
  }

  edit(sid: string, files: Record<string, string>) {
    return this.#ask<Uint8Array[]>({ op: 'edit', sid, files })
  }

  merge(sid: string, parts: Uint8Array[]) {
    return this.#ask<Uint8Array[]>({ op: 'merge', sid, parts })
  }

  drop(sid: string) {
    this.#tell({ op: 'drop', sid })
  }

  async close() {
    this.#closed = true
    for (const w of this.#waiting.values()) w.reject(new Error('The server is shutting down.'))
    this.#waiting.clear()
    const w = this.#worker
    this.#worker = undefined
    await w?.terminate()
  }
}
