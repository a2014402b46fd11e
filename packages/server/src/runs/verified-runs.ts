import { randomUUID } from 'node:crypto'
import { isTestFile, MAX_RUN_OUTPUT, runLanguage, type VerifiedRunStatus } from '@session-kit/core'
import type { RunConfig } from '../config.js'
import { AppError } from '../errors.js'
import { notFound } from '../http/errors.js'
import type { RoomCaller } from '../http/context.js'
import type { Sql } from '../store/db.js'
import { insertRun } from '../store/events.js'
import { hiddenFileTexts } from '../store/hidden-files.js'
import {
  endOrphanedRuns,
  finishVerifiedRun,
  forgetVerifiedRun,
  insertVerifiedRun,
  markRunning,
  runAllowance,
  type RunOutputLine,
  type RunResult,
  type StoredTest,
  type VerifiedRunRow,
} from '../store/verified-runs.js'
import type { Hub } from '../sync/hub.js'
import { emitEvent } from '../webhooks/events.js'
// The engine (worker threads, wasm) is loaded with the first run: a server nobody runs code on pays nothing for it.
import type { QueueFullError, RunEngine, RunJob, RunLanguage, RunOutcome } from './engine.js'

export interface VerifiedRunsDeps {
  sql: Sql
  hub: Hub
  config: RunConfig
  clock: () => Date
  log: (msg: string) => void
  /** Embedded PGlite: this is the only instance, so every unfinished run at start-up is an orphan. */
  singleInstance: boolean
  /** A sandbox engine to use instead of one built from `config` (tests). */
  engine?: RunEngine
}

/** What a person asks the server to run. */
export interface VerifiedRunRequest {
  kind: 'program' | 'tests'
  file?: string
  /**
   * Grading: the assignment's own visible tests, run in place of every test file in the room (a
   * learner can edit or delete the copies in their document, so a grade never rests on them).
   */
  pinnedTests?: Record<string, string>
}

/** One sandbox run of a verified run: the hidden part holds the hidden test files. */
interface Part {
  job: RunJob
  hidden: boolean
}
interface Ran {
  hidden: boolean
  outcome: RunOutcome
}

/** Why a run ended that the sandbox never finished. */
export const RESTARTED = 'The server restarted before this run finished; run it again.'

/** How long closing waits for runs to notice their sandboxes are gone. */
const CLOSE_WAIT_MS = 2_000

/** How often runs of instances that stopped beating are looked for. */
const ORPHAN_SWEEP_MS = 60_000

/** What is kept of one run: enough for a whole class's output, bounded for a hostile program. */
const MAX_TESTS = 500
const MAX_TEST_TEXT = 2_000

/**
 * Runs the server vouches for: the stored code at a known version (and, for tests, the hidden test
 * files) run in this instance's WebAssembly sandboxes, stored, and told to the room like any run.
 *
 * A tests run with hidden test files is two sandbox runs: the visible tests, then the hidden ones.
 * Everything a learner may read (output, visible tests' messages, the reason) comes from the first,
 * which never held a hidden file, so no program of theirs can copy one into it; the second's output,
 * messages and reason are for instructors only.
 */
export class VerifiedRuns {
  #engine?: Promise<RunEngine>
  #started?: RunEngine
  #sweep?: NodeJS.Timeout
  #inFlight = new Set<Promise<void>>()
  #closing = false

  constructor(private readonly deps: VerifiedRunsDeps) {
    if (deps.engine) this.#engine = Promise.resolve((this.#started = deps.engine))
  }

  /** The sandboxes, started with the first run. */
  engine(): Promise<RunEngine> {
    this.#engine ??= import('./engine.js').then(
      ({ RunEngine }) => {
        const { workers, queue, timeoutMs, memoryMb } = this.deps.config
        return (this.#started = new RunEngine({ workers, queueLimit: queue, timeoutMs, memoryMb }))
      },
      (e: Error) => {
        // Tried again with the next run, rather than refusing every run until a restart.
        this.#engine = undefined
        throw e
      },
    )
    return this.#engine
  }

  /** End the runs earlier processes left unfinished, and keep ending those of instances that stop. */
  async start() {
    await this.#endOrphans(this.deps.singleInstance)
    this.#sweep = setInterval(() => void this.#endOrphans(false).catch((e: Error) => this.deps.log(`could not end the runs of stopped instances: ${e.message}`)), ORPHAN_SWEEP_MS)
    this.#sweep.unref()
  }

  get instanceId() {
    return this.deps.hub.instanceId
  }

  /**
   * Accept a run: check the file, the limits and the queue, read the stored code with its heads,
   * store the run as queued and start it. Throws the AppError a person reads (400, 404, 409, 429, 503).
   */
  async request(caller: RoomCaller, input: VerifiedRunRequest): Promise<VerifiedRunRow> {
    if (this.#closing) throw stopping()
    const { sql, hub, config, clock } = this.deps
    const sid = caller.session.id
    const doc = await hub.documentText(sid)
    if (!doc) throw notFound(`Session "${sid}" does not exist.`, 'session_not_found')
    const file = input.file ?? firstRunnable(doc.files)
    if (file === undefined) throw new AppError(409, 'nothing_to_run', 'No file in this session can be run on the server: the server runs Python (.py), JavaScript (.js, .mjs, .cjs) and TypeScript (.ts, .mts, .cts).')
    if (!(file in doc.files)) throw notFound(`There is no file named "${file}".`, 'file_not_found')
    const language = runLanguage(file)
    if (!language) throw new AppError(400, 'not_runnable', `"${file}" cannot be run on the server: it runs Python (.py), JavaScript (.js, .mjs, .cjs) and TypeScript (.ts, .mts, .cts).`, { field: 'file' })
    if (input.kind === 'tests' && isTestFile(file)) throw new AppError(400, 'not_runnable', `"${file}" is a test file: name the program its tests run against.`, { field: 'file' })

    const hiddenTexts = input.kind === 'tests' ? await hiddenFileTexts(sql, sid) : {}
    const hidden = testsFor(language, hiddenTexts)
    const files = input.pinnedTests ? { ...Object.fromEntries(Object.entries(doc.files).filter(([name]) => !isTestFile(name))), ...input.pinnedTests } : doc.files
    const visible = input.kind === 'tests' ? testsFor(language, files).filter((name) => !hidden.includes(name)) : []
    if (input.kind === 'tests' && !visible.length && !hidden.length) {
      throw new AppError(409, 'no_tests', `There are no test files for "${file}": add one (such as ${language === 'python' ? 'test_main.py' : 'main.test.js'}) to run its tests.`)
    }
    // Every sandbox busy and the queue full: refused before anything is stored or counted.
    const engine = await this.engine()
    if (engine.running >= config.workers && engine.queued >= config.queue) throw busy(this.#queueWait(engine))

    const now = clock()
    const id = randomUUID()
    const row = await sql.begin(async (tx) => {
      const allowed = await runAllowance(tx, sid, caller.claims.sub, { perUser: config.perUserPerMinute, perRoom: config.perRoomPerMinute }, now)
      if (!allowed.ok) throw rateLimited(allowed.scope, allowed.retryAfterSeconds, config)
      return insertVerifiedRun(tx, { id, sessionId: sid, userId: caller.claims.sub, name: caller.claims.name, kind: input.kind, file, language, heads: doc.heads, hiddenFiles: hidden.length, instanceId: this.instanceId, createdAt: now })
    })

    const jobs: Part[] = []
    if (input.kind === 'program') jobs.push({ job: { language, kind: 'program', entry: file, files }, hidden: false })
    if (visible.length) jobs.push({ job: { language: together(file, visible), kind: 'tests', entry: file, files, testFiles: visible }, hidden: false })
    // The hidden files win over a document file of the same name: a learner cannot swap one out.
    if (hidden.length) jobs.push({ job: { language: together(file, hidden), kind: 'tests', entry: file, files: { ...files, ...hiddenTexts }, testFiles: hidden }, hidden: true })

    // The first sandbox run is queued now, so a queue that filled meanwhile is answered 429, not stored:
    // the engine refuses at once, before anything else the event loop has to do.
    let first: Promise<RunOutcome>
    try {
      first = engine.run(jobs[0]!.job)
    } catch (e) {
      first = Promise.reject(e)
    }
    // The engine does not say when a queued job starts; one that waits behind nobody started at once.
    const startedAtOnce = engine.queued === 0
    const refused = await Promise.race([first.then(() => null, (e: unknown) => e), new Promise<null>((r) => setImmediate(() => r(null)))])
    if (isQueueFull(refused)) {
      await forgetVerifiedRun(sql, id)
      throw busy(Math.max(1, Math.ceil(refused.retryAfterMs / 1000)))
    }
    const done: Promise<void> = this.#execute(engine, row, { ...jobs[0]!, outcome: first, startedAtOnce }, jobs.slice(1))
      .catch((e: Error) => this.deps.log(`verified run ${id}: ${e.stack ?? e.message}`))
      .finally(() => this.#inFlight.delete(done))
    this.#inFlight.add(done)
    return row
  }

  async #execute(engine: RunEngine, row: VerifiedRunRow, first: Part & { outcome: Promise<RunOutcome>; startedAtOnce: boolean }, rest: Part[]) {
    const { sql, clock } = this.deps
    if (first.startedAtOnce) await markRunning(sql, row.id)
    const parts: Ran[] = [{ hidden: first.hidden, outcome: await settle(first.outcome) }]
    for (const next of rest) {
      const before = parts.at(-1)!.outcome.status
      // A program that does not load (a syntax error, the time or memory limit) would do the same again.
      if (before === 'error' || before === 'timeout') break
      // Stopping: the hidden tests will not run, so the run cannot pass.
      if (this.#closing) {
        parts.push({ hidden: next.hidden, outcome: { status: 'error', output: [], tests: [], durationMs: 0, reason: RESTARTED } })
        break
      }
      await markRunning(sql, row.id)
      parts.push({ hidden: next.hidden, outcome: await settle(engine.run(next.job)) })
    }
    const finished = await finishVerifiedRun(sql, row.id, combine(parts), clock())
    if (finished) await this.#announce(finished)
  }

  /** Tell the room a run ended, through the same stored `run` event as reported runs (analytics, recordings, every instance). */
  async #announce(run: VerifiedRunRow) {
    const { sql, hub } = this.deps
    const passed = run.testsPassed
    const failed = run.testsFailed
    const event = await insertRun(
      sql,
      run.sessionId,
      run.userId,
      {
        name: run.name,
        file: run.file,
        language: run.language,
        ok: run.status === 'passed',
        errors: run.kind === 'tests' && (run.status === 'passed' || run.status === 'failed') ? failed : run.status === 'passed' ? 0 : 1,
        durationMs: run.durationMs ?? 0,
        timedOut: run.status === 'timeout',
        // What everyone in the room may read: never anything of the hidden tests.
        output: plain(run.output).slice(0, MAX_RUN_OUTPUT),
        verified: true,
        runId: run.id,
        kind: run.kind,
        status: run.status,
        ...(run.kind === 'tests' ? { tests: { passed, failed } } : {}),
      },
      hub.now(),
    )
    await hub.emit({ t: 'run', sid: run.sessionId, o: hub.instanceId, id: event.id }, { run: event })
    await emitEvent(sql, {
      type: 'run.finished',
      data: { sessionId: run.sessionId, runId: run.id, userId: run.userId, kind: run.kind, status: run.status, testsPassed: passed, testsFailed: failed, durationMs: run.durationMs },
    })
  }

  /** Roughly how long until the queue has room: the runs ahead, a time limit each, shared by the sandboxes. */
  #queueWait(engine: RunEngine): number {
    const { timeoutMs, workers } = this.deps.config
    return Math.max(1, Math.ceil(((engine.queued + 1) * timeoutMs) / workers / 1000))
  }

  async #endOrphans(all: boolean) {
    const ended = await endOrphanedRuns(this.deps.sql, { instanceId: this.instanceId, reason: RESTARTED, at: this.deps.clock(), mine: false, all })
    for (const run of ended) await this.#announce(run).catch(() => {})
  }

  /** Stop: runs still in the sandboxes are ended as errors (they cannot finish), then the sandboxes close. */
  async close() {
    if (this.#closing) return
    this.#closing = true
    clearInterval(this.#sweep)
    try {
      const ended = await endOrphanedRuns(this.deps.sql, { instanceId: this.instanceId, reason: RESTARTED, at: this.deps.clock(), mine: true })
      for (const run of ended) await this.#announce(run).catch(() => {})
    } catch (e) {
      this.deps.log(`could not end the runs in progress: ${(e as Error).message}`)
    }
    await this.#started?.close()
    // Their sandboxes are gone: what is left of each is a write that finds the run already ended.
    await Promise.race([Promise.allSettled([...this.#inFlight]), new Promise((r) => setTimeout(r, CLOSE_WAIT_MS).unref())])
  }
}

/** The first file that runs, not a test file: what a run without `file` runs. */
function firstRunnable(files: Record<string, string>): string | undefined {
  return Object.keys(files).find((name) => runLanguage(name) !== null && !isTestFile(name))
}

/** The test files among `files` that run with a program in `language` (JavaScript and TypeScript run together). */
function testsFor(language: RunLanguage, files: Record<string, string>): string[] {
  const family = (l: RunLanguage | null) => (l === 'python' ? 'python' : l === null ? null : 'js')
  return Object.keys(files)
    .filter((name) => isTestFile(name) && family(runLanguage(name)) === family(language))
    .sort()
}

/** What a program and its test files run as: TypeScript (types stripped) as soon as one of them is. */
function together(entry: string, testFiles: string[]): RunLanguage {
  const languages = [entry, ...testFiles].map(runLanguage)
  return languages.includes('typescript') ? 'typescript' : languages[0]!
}

const isQueueFull = (e: unknown): e is QueueFullError => e instanceof Error && typeof (e as Partial<QueueFullError>).retryAfterMs === 'number'

/** A sandbox run's outcome, whatever happened to the engine: it never throws. */
async function settle(run: Promise<RunOutcome>): Promise<RunOutcome> {
  try {
    return await run
  } catch (e) {
    const reason = isQueueFull(e) ? 'The server was too busy to finish this run; run it again in a moment.' : `The sandbox failed: ${(e as Error).message}`
    return { status: 'error', output: [], tests: [], durationMs: 0, reason }
  }
}

/**
 * One run from its sandbox runs (the visible part first, the hidden one last): the worst status
 * wins (timeout, error, failed, passed), durations add up, the hidden part's output and reason
 * are kept apart.
 */
function combine(parts: Ran[]): RunResult {
  const rank: Record<VerifiedRunStatus, number> = { queued: 0, running: 0, passed: 1, failed: 2, error: 3, timeout: 4 }
  const visible = parts.filter((p) => !p.hidden).map((p) => p.outcome)
  const hidden = parts.find((p) => p.hidden)?.outcome
  const status = parts.map((p) => p.outcome.status).reduce((a, b) => (rank[b] > rank[a] ? b : a), 'passed' as VerifiedRunStatus)
  const tests: StoredTest[] = parts.flatMap((p) => p.outcome.tests.map((t) => ({ ...storedTest(t), ...(p.hidden ? { hidden: true } : {}) }))).slice(0, MAX_TESTS)
  return {
    status,
    output: visible.flatMap((o) => o.output.map(line)),
    tests,
    hiddenOutput: hidden ? hidden.output.map(line) : null,
    hiddenReason: hidden?.reason ? clean(hidden.reason) : null,
    durationMs: Math.round(parts.reduce((s, p) => s + p.outcome.durationMs, 0)),
    reason: visible.find((o) => o.reason)?.reason ? clean(visible.find((o) => o.reason)!.reason!) : null,
  }
}

/** PostgreSQL stores no NUL in text or JSON; a program may print one. */
const clean = (s: string, max = Infinity) => (s.length > max ? `${s.slice(0, max)}…` : s).replaceAll('\u0000', '\uFFFD')
const line = (l: RunOutputLine): RunOutputLine => ({ stream: l.stream === 'stderr' ? 'stderr' : 'stdout', text: clean(l.text) })
const plain = (lines: RunOutputLine[]) => lines.map((l) => l.text).join('')

function storedTest(t: RunOutcome['tests'][number]): StoredTest {
  return {
    name: clean(t.name, 500),
    passed: t.passed,
    ...(t.message !== undefined ? { message: clean(t.message, MAX_TEST_TEXT) } : {}),
    durationMs: Math.max(0, Math.round(t.durationMs)),
    ...(t.file !== undefined ? { file: clean(t.file, 200) } : {}),
    ...(t.line !== undefined ? { line: t.line } : {}),
  }
}

function stopping() {
  return new AppError(503, 'server_stopping', 'The server is restarting; run it again in a moment.')
}

/** 429 for a full queue; the route sets Retry-After from `retryAfterSeconds`. */
function busy(retryAfterSeconds: number) {
  return new AppError(429, 'queue_full', `The server is running as many programs as it can; try again in ${retryAfterSeconds} s.`, { retryAfterSeconds })
}

function rateLimited(scope: 'user' | 'room', retryAfterSeconds: number, config: RunConfig) {
  const message =
    scope === 'user'
      ? `You can run code on the server at most ${config.perUserPerMinute} times a minute; try again in ${retryAfterSeconds} s.`
      : `This room can run code on the server at most ${config.perRoomPerMinute} times a minute; try again in ${retryAfterSeconds} s.`
  return new AppError(429, 'rate_limited', message, { retryAfterSeconds })
}
