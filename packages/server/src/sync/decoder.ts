import { Worker, type WorkerOptions } from 'node:worker_threads'
import { ChangeFormatError, type IncomingChange } from './changes.js'
import type { DecodeJob, DecodeReply } from './decode-worker.js'

/** A message whose decoding takes longer than this is refused and its thread replaced. */
const JOB_TIMEOUT_MS = 10_000
/** The thread is stopped after this long without work (its Automerge instance holds memory). */
const IDLE_MS = 30_000

interface Pending {
  job: DecodeJob
  resolve: (changes: IncomingChange[]) => void
  reject: (e: Error) => void
}

/**
 * Decodes large sync messages in a worker thread, one at a time, so that a paste of many thousand
 * characters (≈ 5 µs per operation to decode) does not hold up every other room on the event
 * loop. Keystrokes are small and are decoded inline (see Intake). A job that runs past its time is
 * refused and the thread replaced; the thread is started when first needed and stopped when idle.
 */
export class ChangeDecoder {
  #worker?: Worker
  #queue: Pending[] = []
  #running?: Pending
  #timer?: NodeJS.Timeout
  #idle?: NodeJS.Timeout
  #nextId = 1
  #closed = false

  constructor(private readonly log: (msg: string) => void = () => {}) {}

  decode(entries: readonly Uint8Array[], heads: readonly string[]): Promise<IncomingChange[]> {
    if (this.#closed) return Promise.reject(new Error('The server is shutting down.'))
    return new Promise((resolve, reject) => {
      this.#queue.push({ job: { id: this.#nextId++, entries: [...entries], heads: [...heads] }, resolve, reject })
      this.#next()
    })
  }

  /** Jobs waiting or running (for stats and tests). */
  get backlog(): number {
    return this.#queue.length + (this.#running ? 1 : 0)
  }

  #next() {
    if (this.#running || !this.#queue.length) return
    clearTimeout(this.#idle)
    const p = (this.#running = this.#queue.shift()!)
    this.#timer = setTimeout(() => this.#fail(new ChangeFormatError('the changes took too long to read'), true), JOB_TIMEOUT_MS)
    this.#timer.unref()
    this.#thread().postMessage(p.job)
  }

  #thread(): Worker {
    if (this.#worker) return this.#worker
    const worker = startWorker(new URL(import.meta.url.endsWith('.ts') ? './decode-worker.ts' : './decode-worker.js', import.meta.url))
    worker.on('message', (reply: DecodeReply) => {
      const p = this.#running
      if (!p || p.job.id !== reply.id) return
      this.#running = undefined
      clearTimeout(this.#timer)
      if ('error' in reply) p.reject(new ChangeFormatError(reply.error))
      else p.resolve(reply.changes)
      this.#afterJob()
    })
    // A thread that died (out of memory, say) fails the job it was running; one we replaced or
    // stopped ourselves is no longer ours, and its exit says nothing about the current job.
    worker.on('error', (e) => this.log(`the change decoder stopped: ${e.message}`))
    worker.on('exit', () => {
      if (this.#worker !== worker) return
      this.#worker = undefined
      if (this.#running) this.#fail(new ChangeFormatError('the changes could not be read'), false)
    })
    worker.unref()
    this.#worker = worker
    return worker
  }

  /** The running job failed: refuse it and carry on with a fresh thread if the old one is unusable. */
  #fail(e: Error, replace: boolean) {
    clearTimeout(this.#timer)
    const p = this.#running
    this.#running = undefined
    if (replace && this.#worker) {
      const w = this.#worker
      this.#worker = undefined
      void w.terminate()
    }
    p?.reject(e)
    this.#afterJob()
  }

  #afterJob() {
    if (this.#queue.length) return this.#next()
    clearTimeout(this.#idle)
    this.#idle = setTimeout(() => this.#stopThread(), IDLE_MS)
    this.#idle.unref()
  }

  #stopThread() {
    if (this.#running || this.#queue.length || !this.#worker) return
    const w = this.#worker
    this.#worker = undefined
    void w.terminate()
  }

  async close() {
    this.#closed = true
    clearTimeout(this.#idle)
    clearTimeout(this.#timer)
    for (const p of this.#queue.splice(0)) p.reject(new Error('The server is shutting down.'))
    this.#running?.reject(new Error('The server is shutting down.'))
    this.#running = undefined
    await this.#worker?.terminate()
    this.#worker = undefined
  }
}

/**
 * A worker thread from a module beside this one. From the compiled package it is a plain `.js`
 * module; when the server runs from its TypeScript sources (tests, under tsx) the worker needs
 * tsx's loader registered before it imports the `.ts` entry.
 */
export function startWorker(url: URL, maxOldGenerationSizeMb = 512, more: WorkerOptions = {}): Worker {
  const options: WorkerOptions = { ...more, resourceLimits: { ...more.resourceLimits, maxOldGenerationSizeMb } }
  if (!url.pathname.endsWith('.ts')) return new Worker(url, options)
  return new Worker(`import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(url.href)}) })`, { ...options, eval: true })
}
