import type { ReactiveController, ReactiveControllerHost } from 'lit'
import type { RunInfo, RunQueued, VerifiedRun } from '@session-kit/core'
import { errorMessage } from '../internal/http.js'
import type { RoomClient } from '../internal/room-client.js'
import { testSummary } from './test-results.js'

export type VerifyKind = VerifiedRun['kind']

/** A run the server was asked for, as this page knows it. */
export interface VerifyState {
  kind: VerifyKind
  file: string
  /** `sending` until the server has taken the request, then the run's own status. */
  status: 'sending' | VerifiedRun['status']
  id?: VerifiedRun['id']
  /** The run as the server last described it. */
  run?: VerifiedRun
  /** Why the server did not take the request, or stopped answering about it. */
  error?: string
}

const FINAL: ReadonlySet<string> = new Set(['passed', 'failed', 'error', 'timeout'])
/** Whether a run on the server has ended (`queued` and `running` have not). */
export const ended = (status: string | undefined) => FINAL.has(status ?? '')
/** How often the run is asked after, in case the room's socket does not say it ended. */
const POLL_MS = 1000

/**
 * Runs the server vouches for: asks for one (`POST …/runs`), then learns its outcome from whichever
 * comes first, the room's `run` event for it or a poll of `GET …/runs/:id` every second.
 */
export class VerifiedRunController implements ReactiveController {
  state: VerifyState | null = null
  /** When the server said another run may be asked for (after a 429), in ms since the epoch. */
  retryAt = 0
  #client: RoomClient | null = null
  #abort: AbortController | null = null
  #timer: ReturnType<typeof setTimeout> | undefined
  #retryTimer: ReturnType<typeof setTimeout> | undefined
  #asking = false
  #askAgain = false
  /** Runs the room said had ended before this page knew their id (a fast run, a slow answer). */
  #ended = new Set<string>()

  constructor(
    private readonly host: ReactiveControllerHost,
    /** Told once a run has ended, or could not be asked for: what to announce. */
    private readonly onSettled: (state: VerifyState) => void,
  ) {
    host.addController(this)
  }

  /** Whether a run is on its way (asked for and not ended). */
  get pending(): boolean {
    return this.state !== null && !this.state.error && !FINAL.has(this.state.status)
  }

  /** Whether the server asked to wait before the next run. */
  get waiting(): boolean {
    return this.retryAt > Date.now()
  }

  /**
   * Ask for a run of `kind`. With `orProgram`, a tests run the server finds no tests for (none in
   * the room, none hidden) becomes a run of the program.
   */
  async start(client: RoomClient, kind: VerifyKind, file: string, orProgram = false): Promise<void> {
    this.#stop()
    this.#client = client
    this.#ended.clear()
    const abort = (this.#abort = new AbortController())
    this.#set({ kind, file, status: 'sending' })
    let res: Response
    try {
      res = await client.api('POST', '/runs', { kind, file }, abort.signal)
    } catch (e) {
      if (!abort.signal.aborted) this.#fail(`The server could not be reached (${(e as Error).message}).`)
      return
    }
    if (abort.signal.aborted) return
    if (res.status === 429) {
      const seconds = Math.max(1, Number(res.headers.get('retry-after')) || 5)
      this.retryAt = Date.now() + seconds * 1000
      clearTimeout(this.#retryTimer)
      this.#retryTimer = setTimeout(() => this.host.requestUpdate(), seconds * 1000 + 50)
      const message = await errorMessage(res)
      this.#fail(/try again/i.test(message) ? message : `${message} Try again in ${seconds} s.`)
      return
    }
    if (res.status === 409 && kind === 'tests' && orProgram) {
      const body = (await res
        .clone()
        .json()
        .catch(() => null)) as { error?: { code?: string } } | null
      if (body?.error?.code === 'no_tests') return this.start(client, 'program', file)
    }
    if (!res.ok) {
      this.#fail(await errorMessage(res))
      return
    }
    const queued = (await res.json()) as RunQueued
    if (abort.signal.aborted) return
    this.#set({ kind, file, id: queued.id, status: queued.status })
    this.#schedule(this.#ended.has(queued.id) ? 0 : POLL_MS)
  }

  /** The room's `run` event: when it is about the run asked for, ask for its outcome now. */
  onRunEvent(run: RunInfo) {
    if (!run.verified || !run.runId) return
    const id = run.runId
    if (this.state?.status === 'sending') {
      if (FINAL.has(run.status ?? '')) this.#ended.add(id)
      return
    }
    if (this.state?.id === undefined) return
    if (this.state.id !== id || !this.pending) return
    if (run.status && !FINAL.has(run.status)) this.#set({ ...this.state, status: run.status })
    else this.#schedule(0)
  }

  /** Forget the run shown (the person cleared the console). */
  clear() {
    if (this.pending) return
    this.state = null
    this.host.requestUpdate()
  }

  hostConnected() {
    if (!this.pending) return
    // Back in the page: ask after the run again; a request cut off on its way is forgotten.
    if (this.state?.id === undefined) {
      this.state = null
      return
    }
    this.#abort = new AbortController()
    this.#schedule(0)
  }

  hostDisconnected() {
    this.#stop()
    clearTimeout(this.#retryTimer)
  }

  #schedule(ms: number) {
    clearTimeout(this.#timer)
    if (this.#asking) this.#askAgain = ms === 0 || this.#askAgain
    else this.#timer = setTimeout(() => void this.#ask(), ms)
  }

  async #ask() {
    const state = this.state
    const client = this.#client
    const abort = this.#abort
    if (!state || state.id === undefined || !client || !abort || !this.pending) return
    this.#asking = true
    let next = POLL_MS
    try {
      const res = await client.api('GET', `/runs/${encodeURIComponent(state.id)}`, undefined, abort.signal)
      if (abort.signal.aborted) return
      if (!res.ok) {
        // The run is gone or may not be seen: polling again would not change that.
        if (res.status === 404 || res.status === 403) return this.#fail(await errorMessage(res))
      } else {
        const run = (await res.json()) as VerifiedRun
        if (abort.signal.aborted) return
        this.#set({ ...state, status: run.status, run })
      }
    } catch {
      // Offline for a moment, or aborted: the next poll (or nothing, once aborted) follows.
    } finally {
      this.#asking = false
    }
    if (abort.signal.aborted || !this.pending) return
    if (this.#askAgain) next = 0
    this.#askAgain = false
    this.#schedule(next)
  }

  #set(state: VerifyState) {
    const was = this.pending
    this.state = state
    if (!this.pending) this.#stop()
    this.host.requestUpdate()
    if (was && !this.pending) this.onSettled(state)
  }

  #fail(error: string) {
    if (this.state) this.#set({ ...this.state, error })
  }

  #stop() {
    clearTimeout(this.#timer)
    this.#abort?.abort()
    this.#abort = null
    this.#askAgain = false
  }
}

const what = (s: VerifyState) => (s.kind === 'tests' ? `the tests on ${s.file}` : s.file)

/** How a run on the server ended, in words (its `reason` says why, in a sentence of its own). */
function outcome(s: VerifyState, run: VerifiedRun): string {
  switch (run.status) {
    case 'timeout':
      return 'stopped by the time limit'
    case 'error':
      return s.kind === 'tests' && run.tests.length ? `${testSummary(run.tests)}, then it could not go on` : 'it could not run'
    default:
      if (s.kind === 'tests') return testSummary(run.tests)
      return run.status === 'passed' ? 'it ran without errors' : 'it ended with an error'
  }
}

/** What the panel says about the run: on its way, its outcome, or why there is none. */
export function verifyText(s: VerifyState): string {
  if (s.error) return `${what(s)[0]!.toUpperCase()}${what(s).slice(1)} could not be checked on the server: ${s.error}`
  switch (s.status) {
    case 'sending':
      return `Asking the server to check ${what(s)}…`
    case 'queued':
      return `Checking ${what(s)} on the server — waiting for a free sandbox…`
    case 'running':
      return `Checking ${what(s)} on the server — running…`
  }
  const run = s.run!
  return `Verified on the server at version ${run.heads[0]?.slice(0, 8) ?? '(empty)'}: ${outcome(s, run)}.`
}

/** Whether the run on the server went well (passed), for its colour. */
export const verifyTone = (s: VerifyState): 'ok' | 'danger' | '' => (s.error ? 'danger' : s.status === 'passed' ? 'ok' : FINAL.has(s.status) ? 'danger' : '')
