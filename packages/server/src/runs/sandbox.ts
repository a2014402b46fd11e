/**
 * The engine's side of one sandbox: its worker thread, started ahead of need, and the single run
 * it serves. The time limit is enforced twice: inside the sandbox (QuickJS's interrupt handler; for
 * Python a SIGINT written into shared memory, which Python raises as KeyboardInterrupt), and here,
 * by terminating the thread shortly after the deadline when the inside did not stop it (a long C
 * loop such as `10**10**8` never checks for signals).
 */
import type { TestResult } from '@session-kit/core/code-tests'
import type { Worker } from 'node:worker_threads'
import { startWorker } from '../sync/decoder.js'
import type { RunJob, RunOutcome, RunStatus } from './engine.js'
import type { RunRequest, SandboxMessage } from './messages.js'
import { collectOutput, type OutputChunk } from './output.js'
import { pythonAssets, pythonWorkerUrl } from './python-assets.js'

export type SandboxKind = 'python' | 'quickjs'

/** How long past the deadline the thread gets to stop by itself before it is terminated. */
const GRACE_MS = 500
const START_TIMEOUT_MS = 60_000
/** Tests kept per run; a file generating more only counts them. */
const MAX_TESTS = 1000
/** The JavaScript heap of the thread; the interpreters' own memory is bounded inside it. */
const HEAP_MB = { python: 256, quickjs: 128 }

const seconds = (ms: number) => `${Math.round(ms / 100) / 10} s`

export class Sandbox {
  readonly kind: SandboxKind
  /** Resolves once the interpreter has started and is locked down; rejects with why it could not. */
  readonly ready: Promise<void>
  readonly #memoryMb: number
  #worker: Worker | undefined
  #interrupt: Int32Array | undefined
  #onMessage: (m: SandboxMessage) => void = () => {}
  #onEnd: (why: string) => void = (why) => (this.#dead ??= why)
  /** Why the thread ended while it waited for a run, if it did. */
  #dead: string | undefined
  #terminated = false

  constructor(kind: SandboxKind, opts: { memoryMb: number }) {
    this.kind = kind
    this.#memoryMb = opts.memoryMb
    this.ready = this.#boot()
    this.ready.catch(() => {})
  }

  async #boot(): Promise<void> {
    let workerData: object
    if (this.kind === 'python') {
      const assets = await pythonAssets()
      this.#interrupt = new Int32Array(new SharedArrayBuffer(4))
      workerData = { indexURL: assets.indexURL, wasm: assets.wasm, snapshot: assets.snapshot, interrupt: this.#interrupt, memoryMb: this.#memoryMb }
    } else workerData = { memoryMb: this.#memoryMb }
    if (this.#terminated) throw new Error('the sandbox was stopped')
    const url = new URL(import.meta.url.endsWith('.ts') ? './quickjs-worker.ts' : './quickjs-worker.js', import.meta.url)
    // No environment: the server's secrets (DATABASE_URL…) are not the sandbox's to read.
    const worker = startWorker(this.kind === 'python' ? pythonWorkerUrl() : url, HEAP_MB[this.kind], { workerData, env: {} })
    this.#worker = worker
    worker.on('message', (m: SandboxMessage) => this.#onMessage(m))
    worker.on('error', (error: Error & { code?: string }) => this.#onEnd(error.code === 'ERR_WORKER_OUT_OF_MEMORY' ? 'memory' : `The sandbox crashed: ${error.message}`))
    worker.on('exit', (code) => this.#onEnd(this.#terminated ? 'The run was stopped: the server is shutting down.' : `The sandbox crashed: its thread ended (exit code ${code})`))
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('it did not start in time')), START_TIMEOUT_MS)
      const settle = (error?: Error) => {
        clearTimeout(timer)
        this.#onMessage = () => {}
        this.#onEnd = (why) => (this.#dead ??= why)
        if (error) reject(error)
        else resolve()
      }
      this.#onMessage = (m) => {
        if (m.type === 'ready') settle()
        else if (m.type === 'failed') settle(new Error(m.message))
      }
      this.#onEnd = (why) => settle(new Error(why))
    })
  }

  /** Runs one job; never rejects. The sandbox is spent afterwards. */
  async run(job: RunJob, timeoutMs: number, outputLimit: number): Promise<RunOutcome> {
    const started = performance.now()
    const elapsed = () => Math.round(performance.now() - started)
    try {
      await this.ready
    } catch (error) {
      return { status: 'error', output: [], tests: [], durationMs: elapsed(), reason: `The sandbox could not start: ${error instanceof Error ? error.message : String(error)}` }
    }
    const begun = performance.now()
    const worker = this.#worker
    if (!worker || this.#dead) return { status: 'error', output: [], tests: [], durationMs: elapsed(), reason: this.#dead ?? 'The sandbox crashed before the run' }
    const memory = `Out of memory: the program used more than ${this.#memoryMb} MB`
    const stopped = `Stopped after ${seconds(timeoutMs)}: the time limit`
    const chunks: OutputChunk[] = []
    const tests: TestResult[] = []
    let dropped = 0
    let overtime = false
    return new Promise<RunOutcome>((resolve) => {
      const timers: NodeJS.Timeout[] = []
      const finish = (status: RunStatus, reason?: string) => {
        for (const t of timers) clearTimeout(t)
        this.#onMessage = () => {}
        this.#onEnd = () => {}
        if (overtime) [status, reason] = ['timeout', stopped]
        if (status === 'timeout') reason = stopped
        if (reason === 'memory') reason = memory
        resolve({ status, output: collectOutput(chunks, dropped), tests, durationMs: Math.round(performance.now() - begun), ...(reason ? { reason } : {}) })
        void this.terminate()
      }
      this.#onMessage = (m) => {
        if (m.type === 'output') chunks.push({ stream: m.stream, text: m.text })
        else if (m.type === 'dropped') dropped = m.lines
        else if (m.type === 'test' && tests.length < MAX_TESTS) tests.push(m.result)
        else if (m.type === 'done') {
          dropped = m.dropped
          finish(m.status, m.reason)
        }
      }
      this.#onEnd = (why) => finish('error', why)
      const kill = () => {
        overtime = true
        finish('timeout')
      }
      if (this.#interrupt) {
        const interrupt = this.#interrupt
        timers.push(
          setTimeout(() => {
            overtime = true
            Atomics.store(interrupt, 0, 2)
            timers.push(setTimeout(kill, GRACE_MS))
          }, timeoutMs),
        )
      } else timers.push(setTimeout(kill, timeoutMs + GRACE_MS))
      const request: RunRequest = { type: 'run', job, timeoutMs, outputLimit }
      worker.postMessage(request)
    })
  }

  async terminate(): Promise<void> {
    this.#terminated = true
    const worker = this.#worker
    this.#worker = undefined
    if (worker) await worker.terminate()
  }
}
