/** What the engine and a sandbox's thread say to each other. */
import type { TestResult } from '@session-kit/core/code-tests'
import type { RunJob, RunStatus } from './engine.js'
import type { Stream } from './output.js'

export interface RunRequest {
  type: 'run'
  job: RunJob
  timeoutMs: number
  outputLimit: number
}

export type SandboxMessage =
  /** Started and locked down: ready for one run. */
  | { type: 'ready' }
  /** The Python start-up image (from a thread started to make it). */
  | { type: 'snapshot'; snapshot: Uint8Array }
  | { type: 'output'; stream: Stream; text: string }
  /** How many lines were left out so far (sent now and then while a flood goes on). */
  | { type: 'dropped'; lines: number }
  | { type: 'test'; result: TestResult }
  | { type: 'done'; status: RunStatus; reason?: string; dropped: number }
  /** The sandbox could not start. */
  | { type: 'failed'; message: string }
