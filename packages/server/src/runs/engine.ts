/**
 * Runs the room's code on the server, in WebAssembly sandboxes (Pyodide for Python, QuickJS for
 * JavaScript and TypeScript), each in a worker thread of its own: the server's event loop never
 * runs learner code. A sandbox serves one run and is thrown away, so a run's result depends only on
 * its files. At most `workers` runs go at once, at most `queueLimit` wait in order behind them; one
 * sandbox per slot and language is started ahead, so a run does not wait for an interpreter.
 */
import type { TestResult } from '@session-kit/core'
import { OUTPUT_CHARACTERS } from './output.js'
import { Sandbox, type SandboxKind } from './sandbox.js'

export type RunLanguage = 'python' | 'javascript' | 'typescript'

export interface RunJob {
  language: RunLanguage
  kind: 'program' | 'tests'
  /** The file run as the program (e.g. "main.py"). */
  entry: string
  /** Every file's text at the run's document version, plus hidden test files. */
  files: Record<string, string>
  /** For kind 'tests': names in `files` to run as test files, in order. */
  testFiles?: string[]
}

export type RunStatus = 'passed' | 'failed' | 'error' | 'timeout'

export interface RunOutcome {
  status: RunStatus
  output: { stream: 'stdout' | 'stderr'; text: string }[]
  tests: TestResult[]
  durationMs: number
  /** Why it ended, in plain words, for error/timeout: "Stopped after 5 s: the time limit", "Out of memory: the program used more than 128 MB", "The sandbox crashed: …". */
  reason?: string
}

export interface EngineOptions {
  /** Runs at once (each in its own thread). */
  workers: number
  /** Runs that may wait behind them; one more is refused with QueueFullError. */
  queueLimit: number
  timeoutMs: number
  memoryMb: number
  /** Characters of output kept per run (default 64 KiB; at most 200 lines either way). */
  outputLimit?: number
  /** Languages whose sandboxes start at once rather than at their first run. */
  prestart?: RunLanguage[]
}

/** Too many runs are waiting: try again after `retryAfterMs`. */
export class QueueFullError extends Error {
  readonly retryAfterMs: number
  constructor(retryAfterMs: number) {
    super(`Too many runs are waiting; try again in ${Math.ceil(retryAfterMs / 1000)} s.`)
    this.name = 'QueueFullError'
    this.retryAfterMs = retryAfterMs
  }
}

interface Waiting {
  job: RunJob
  resolve: (outcome: RunOutcome) => void
}

const kindOf = (language: RunLanguage): SandboxKind => (language === 'python' ? 'python' : 'quickjs')

export class RunEngine {
  readonly #opts: Required<Omit<EngineOptions, 'prestart'>>
  readonly #queue: Waiting[] = []
  readonly #spare = new Map<SandboxKind, Sandbox[]>()
  readonly #busy = new Set<Sandbox>()
  #running = 0
  #closed = false
  // A typical run's length, for telling a refused caller when to come back.
  #typicalMs: number

  constructor(opts: EngineOptions) {
    if (!(opts.workers >= 1)) throw new RangeError('workers must be at least 1')
    this.#opts = { outputLimit: OUTPUT_CHARACTERS, ...opts, queueLimit: Math.max(0, opts.queueLimit) }
    this.#typicalMs = Math.min(opts.timeoutMs, 2000)
    for (const language of opts.prestart ?? []) this.#fill(kindOf(language))
  }

  get running(): number {
    return this.#running
  }

  get queued(): number {
    return this.#queue.length
  }

  /** The outcome of a run; rejects only when the engine is closed or the queue is full. */
  run(job: RunJob): Promise<RunOutcome> {
    if (this.#closed) return Promise.reject(new Error('The run engine is closed.'))
    if (!(job.entry in job.files)) return Promise.resolve(ended(0, 'error', `There is no file named ${job.entry} to run.`))
    if (this.#running >= this.#opts.workers && this.#queue.length >= this.#opts.queueLimit) {
      const ahead = this.#queue.length + this.#running
      return Promise.reject(new QueueFullError(Math.max(1000, Math.round((ahead / this.#opts.workers) * this.#typicalMs))))
    }
    return new Promise((resolve) => {
      this.#queue.push({ job, resolve })
      this.#pump()
    })
  }

  async close(): Promise<void> {
    this.#closed = true
    const waiting = this.#queue.splice(0)
    for (const w of waiting) w.resolve(ended(0, 'error', 'The server is shutting down.'))
    const all = [...this.#busy, ...[...this.#spare.values()].flat()]
    this.#spare.clear()
    await Promise.all(all.map((s) => s.terminate()))
  }

  #pump(): void {
    while (!this.#closed && this.#running < this.#opts.workers && this.#queue.length) {
      const next = this.#queue.shift()!
      this.#running++
      void this.#execute(next.job).then((outcome) => {
        this.#running--
        this.#typicalMs = Math.round(this.#typicalMs * 0.8 + outcome.durationMs * 0.2)
        next.resolve(outcome)
        this.#pump()
      })
    }
  }

  async #execute(job: RunJob): Promise<RunOutcome> {
    const kind = kindOf(job.language)
    const sandbox = this.#spare.get(kind)?.shift() ?? this.#start(kind)
    this.#fill(kind)
    this.#busy.add(sandbox)
    try {
      return await sandbox.run(job, this.#opts.timeoutMs, this.#opts.outputLimit)
    } finally {
      this.#busy.delete(sandbox)
      void sandbox.terminate()
    }
  }

  #start(kind: SandboxKind): Sandbox {
    return new Sandbox(kind, { memoryMb: this.#opts.memoryMb })
  }

  /** Keeps one started sandbox of this kind per slot, so the next runs find them ready. */
  #fill(kind: SandboxKind): void {
    if (this.#closed) return
    const spare = this.#spare.get(kind) ?? []
    this.#spare.set(kind, spare)
    while (spare.length < this.#opts.workers) {
      const sandbox = this.#start(kind)
      spare.push(sandbox)
      // One that fails to start is dropped; the next run starts its own and reports why.
      sandbox.ready.catch(() => {
        const i = spare.indexOf(sandbox)
        if (i !== -1) spare.splice(i, 1)
        void sandbox.terminate()
      })
    }
  }
}

/** An outcome with nothing run: the engine closing, a sandbox that never started. */
export function ended(durationMs: number, status: RunStatus, reason: string): RunOutcome {
  return { status, output: [], tests: [], durationMs, reason }
}
