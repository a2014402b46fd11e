/**
 * Running learner code where it cannot hurt the page. Built-in runners use a sandboxed frame
 * (`<iframe sandbox="allow-scripts">` — an opaque origin with no cookies, storage or access to the
 * host page, and a policy that blocks all network access): JavaScript and TypeScript run in a
 * worker inside it, HTML/CSS in a frame nested inside it that cannot navigate away and has no
 * WebRTC. A hard time limit removes the frame, which stops any infinite loop without touching the
 * tab. Output arrives in batches and is capped, so code that prints without end neither freezes
 * the page nor outlives its limit. Python runs with Pyodide in a worker inside the same kind of
 * frame, loaded the first time Python runs (python-runner.ts). Hosts add languages with
 * `registerRunner()`.
 */
import type { TestResult } from '@session-kit/core/code-tests'

export type OutputLevel = 'log' | 'info' | 'warn' | 'error' | 'debug'

export interface OutputLine {
  level: OutputLevel
  text: string
  /** Line in the code, for errors where it is known. */
  line?: number | null
}

export interface RunResult {
  ok: boolean
  errors: number
  durationMs: number
  timedOut: boolean
  /**
   * The code never ran: the sandbox could not be set up (its page did not load — the server that
   * serves it is unreachable, or a policy blocked it). The last line of `output` says which.
   */
  notStarted?: boolean
  /** What the code printed: the first 50,000 lines or 2,000,000 characters (and errors after them). */
  output: OutputLine[]
  /** How many more lines the code printed than `output` keeps. */
  omitted?: number
}

/**
 * How much of a run's output is kept (`RunResult.output`, and what a download offers): the first
 * 50,000 lines or 2,000,000 characters, each line cut at 10,000, and up to 20 errors after that.
 */
export const OUTPUT_LIMITS = { lines: 50_000, chars: 2_000_000, line: 10_000, lateErrors: 20 } as const

export type { TestResult }

/** A run of tests: the program's output as for any run, and each test's result. `ok`: all passed. */
export interface TestRunResult extends RunResult {
  tests: TestResult[]
}

/** A test file, run against the program. */
export interface TestFile {
  name: string
  source: string
}

export interface RunContext {
  /** Hard time limit, on the code's own time (not while a runtime downloads or starts, or while it waits for input). */
  timeoutMs: number
  /** Where a runner may put a visible preview (HTML) or its hidden frame. */
  container: HTMLElement
  /** Called for each line of output as it happens. */
  onOutput(line: OutputLine): void
  /** Called when lines are left out (past what the runner keeps), with how many. */
  onOmitted?(count: number): void
  /** Aborted when the person presses Stop. */
  signal: AbortSignal
  /**
   * Progress while a runtime downloads and starts: loaded/total bytes (total may be 0 if unknown),
   * and a phase. A start is reported as loaded 0 of total 1, then 1 of 1 once the runtime is up.
   */
  onProgress?(p: { phase: 'download' | 'start'; loaded: number; total: number }): void
  /**
   * The program asks for input (Python `input(prompt)`): resolve with the line the person typed
   * (null: end of input). The prompt includes what the program printed on that line before
   * asking; the runner does not echo the answer (a console shows the prompt and the line).
   */
  onInput?(prompt: string): Promise<string | null>
  /** The name of the code's file ("main.py"), where a runner shows it (Python's tracebacks). */
  file?: string
}

/** A language's way of running code. */
export interface Runner {
  /** Shown to people: "JavaScript", "Python (Pyodide)" … */
  label: string
  /** Whether the runner shows a visual preview (so the runner element keeps room for it). */
  preview?: boolean
  run(code: string, ctx: RunContext): Promise<RunResult>
  /** Run `tests` against `code` (the program file `file`); absent if the language has no test support. */
  test?(code: string, ctx: RunContext & { file: string; tests: TestFile[] }): Promise<TestRunResult>
}

const registry = new Map<string, Runner>()

/** Register (or replace) the runner for a language, e.g. Python through Pyodide in a worker. */
export function registerRunner(language: string, runner: Runner) {
  registry.set(language.toLowerCase(), runner)
}

export function runnerFor(language: string): Runner | undefined {
  return registry.get(language.toLowerCase())
}

let frameUrl: string | URL | undefined
let pythonPackages: string | undefined

/**
 * Where the sandbox frame page is served from (default, or `frameUrl: undefined`: beside these
 * modules). `pythonPackages`: the address of a Pyodide package index (a copy of the Pyodide
 * 314.0.7 distribution's files, served with CORS), from which Python programs may then import
 * packages beyond the standard library (numpy, …; also micropip). The page fetches them, only from
 * under that address, and hands them to the sandbox, which itself still reaches no network. By
 * default there is none: only Python's standard library.
 */
export function configureRunner(opts: { frameUrl?: string | URL; pythonPackages?: string | URL }) {
  if ('frameUrl' in opts) frameUrl = opts.frameUrl
  if ('pythonPackages' in opts) pythonPackages = opts.pythonPackages ? String(new URL(String(opts.pythonPackages), location.href)).replace(/\/?$/, '/') : undefined
}

/** The sandbox frame page's address, and the package index Python may use (see configureRunner). @internal */
export function sandboxSettings() {
  return { frameUrl: String(frameUrl ?? new URL('../assets/runner-frame.html', import.meta.url)), pythonPackages }
}

/** How long the sandbox page may take to load before a run says it could not start. @internal */
export const START_LIMIT_MS = 15_000

const LEVELS: readonly OutputLevel[] = ['log', 'info', 'warn', 'error', 'debug']

/**
 * Messages from the sandbox frame (see assets/runner-frame.html). Output comes in batches of up to
 * 1,000 lines: their texts end to end, their lengths, a digit per line for its level (an index in
 * LEVELS), and [index, line] pairs for errors with a line — cheap to copy, unlike an object per line.
 */
type FrameMessage =
  | { type: 'ready' }
  | ({ type: 'output' } & OutputMessage)
  | { type: 'tests'; tests?: unknown }
  | { type: 'done' }

type OutputMessage = { text?: unknown; sizes?: unknown; levels?: unknown; numbers?: unknown; dropped?: unknown; errors?: unknown }

const count = (n: unknown) => (typeof n === 'number' && Number.isSafeInteger(n) && n > 0 ? n : 0)

/** The lines of an output message, checked (at most 1,000); and how many more it said it had. */
function unbatch(m: OutputMessage): { lines: OutputLine[]; past: number } {
  const text = typeof m.text === 'string' ? m.text : ''
  const sizes = m.sizes instanceof Uint32Array ? m.sizes : new Uint32Array(0)
  const codes = typeof m.levels === 'string' ? m.levels : ''
  const numbers: unknown[] = Array.isArray(m.numbers) ? m.numbers : []
  const n = Math.min(sizes.length, codes.length, 1000)
  const lines: OutputLine[] = []
  let at = 0
  let k = 0
  for (let i = 0; i < n; i++) {
    while (k < numbers.length && (numbers[k] as number) < i) k += 2
    const size = sizes[i]!
    const line: OutputLine = { level: LEVELS[codes.charCodeAt(i) - 48] ?? 'log', text: text.slice(at, at + Math.min(size, OUTPUT_LIMITS.line + 1)) }
    if (numbers[k] === i && Number.isSafeInteger(numbers[k + 1])) line.line = numbers[k + 1] as number
    lines.push(line)
    at += size
  }
  return { lines, past: sizes.length - n }
}

/**
 * A run's output as the host keeps it: lines passed on to `onOutput` within OUTPUT_LIMITS, the rest
 * counted; and the run's result from it. @internal
 */
export function outputOf(ctx: RunContext) {
  const output: OutputLine[] = []
  let kept = 0
  let late = 0
  let omitted = 0
  let errors = 0
  /** Keep a line (within the limits, or always for the runner's own last word); false if left out. */
  const add = (line: OutputLine, always = false) => {
    const full = kept >= OUTPUT_LIMITS.chars || output.length >= OUTPUT_LIMITS.lines
    if (!always && full && !(line.level === 'error' && late++ < OUTPUT_LIMITS.lateErrors)) return false
    output.push(line)
    kept += line.text.length + 1
    ctx.onOutput(line)
    return true
  }
  const omit = (n: number) => {
    if (n <= 0) return
    omitted += n
    ctx.onOmitted?.(n)
  }
  return {
    add,
    /** An output message from the frame: at most 1,000 lines a message (and 50,000 a run), so the work per message stays small. */
    take(m: OutputMessage) {
      const { lines, past } = unbatch(m)
      let skipped = past + count(m.dropped)
      for (const line of lines) if (!add(line)) skipped++
      errors += count(m.errors)
      omit(skipped)
    },
    /** The result, with `message` (the runner's own last word: time limit, Stop, …) as one more error. */
    result(durationMs: number, timedOut: boolean, message?: string, notStarted = false): RunResult {
      if (message) add({ level: 'error', text: message }, true)
      const failed = timedOut || message ? 1 : 0
      return { ok: !failed && errors === 0, errors: errors + failed, durationMs: Math.round(durationMs), timedOut, output, omitted, ...(notStarted ? { notStarted } : {}) }
    },
  }
}

/**
 * Run code in a fresh sandbox frame. `mode` js: in a worker inside the frame; html: as a page in a
 * frame nested inside it (the frame stays as the preview until the next run). `job` (js): run test
 * files against the code with core's harness instead; the result then has the `tests` the frame
 * sent, unchecked.
 */
export function runInSandbox(mode: 'js' | 'html', code: string, ctx: RunContext, job?: { file: string; tests: TestFile[]; harness: string }): Promise<RunResult & { tests?: unknown }> {
  return new Promise((resolve) => {
    const started = performance.now()
    const out = outputOf(ctx)
    let settled = false
    let tests: unknown
    const frame = document.createElement('iframe')
    frame.setAttribute('sandbox', 'allow-scripts')
    frame.setAttribute('title', mode === 'html' ? 'Preview of the page' : 'Code runner')
    frame.setAttribute('referrerpolicy', 'no-referrer')
    frame.className = mode === 'html' ? 'preview' : 'hidden-frame'
    if (mode === 'js') frame.setAttribute('aria-hidden', 'true')
    const finish = (timedOut: boolean, message?: string, notStarted = false) => {
      if (settled) return
      settled = true
      clearTimeout(limit)
      clearTimeout(starting)
      frame.removeEventListener('load', onLoad)
      window.removeEventListener('message', onMessage)
      ctx.signal.removeEventListener('abort', onAbort)
      // A worker (and any loop in it) dies with its frame; an HTML preview stays unless stopped.
      if (mode === 'js' || timedOut || notStarted) frame.remove()
      resolve({ ...out.result(performance.now() - started, timedOut, message, notStarted), ...(job ? { tests } : {}) })
    }
    const onMessage = (e: MessageEvent) => {
      if (e.source !== frame.contentWindow || settled) return
      const m = e.data as FrameMessage
      switch (m?.type) {
        case 'ready':
          if (ready) break
          ready = true
          clearTimeout(starting)
          // The time limit is the code's: it starts when the code does, not while the frame loads.
          limit = setTimeout(() => finish(true, `Stopped after ${ctx.timeoutMs / 1000} s: the time limit. Is there an endless loop?`), ctx.timeoutMs)
          frame.contentWindow!.postMessage({ type: mode === 'js' ? 'run-js' : 'run-html', code, ...job }, '*')
          break
        case 'output':
          out.take(m)
          break
        case 'tests':
          tests = m.tests
          break
        case 'done':
          finish(false)
          break
      }
    }
    const onAbort = () => finish(true, 'Stopped.')
    const src = sandboxSettings().frameUrl
    const notStarted = () =>
      finish(false, `The code did not run: the sandbox it runs in could not be loaded from ${new URL(src, location.href).origin}. Check the connection to the Session Kit server, then run again.`, true)
    let ready = false
    let limit: ReturnType<typeof setTimeout> | undefined
    // The frame's page says "ready" as it loads: a frame that loaded without saying so is an error
    // page (server down, blocked by a policy); one that takes too long to load never started.
    let starting = setTimeout(notStarted, START_LIMIT_MS)
    const onLoad = () => {
      if (ready) return
      clearTimeout(starting)
      starting = setTimeout(notStarted, 1000)
    }
    frame.addEventListener('load', onLoad)
    window.addEventListener('message', onMessage)
    ctx.signal.addEventListener('abort', onAbort)
    frame.src = src
    ctx.container.append(frame)
  })
}

/** Sucrase's TypeScript transform, fetched only when TypeScript first runs. @internal */
export async function typeStripper(): Promise<(code: string) => string> {
  const url = String(new URL('../assets/ts-transform.js', import.meta.url))
  const { transform } = (await import(/* @vite-ignore */ /* webpackIgnore: true */ url)) as typeof import('sucrase')
  return (code) => transform(code, { transforms: ['typescript'], disableESTransforms: true }).code
}

/** A run that ends before the code starts, with one line saying why. @internal */
export function ended(ctx: RunContext, text: string, notStarted = false): RunResult {
  const line: OutputLine = { level: 'error', text }
  ctx.onOutput(line)
  return { ok: false, errors: 1, durationMs: 0, timedOut: false, output: [line], ...(notStarted ? { notStarted } : {}) }
}

// Python and test runs load the first time one is used (one module: each alone would be a chunk
// small enough for the bundle to fold into this one).
const later = () => import('./code-runners.js')
const scriptTests = (typescript: boolean): Runner['test'] => (code, ctx) =>
  later().then(
    (m) => m.testScript(code, ctx, typescript),
    () => ({ ...ended(ctx, 'The tests did not run: they could not be loaded. Check the connection to the Session Kit server, then run again.', true), tests: [] }),
  )
registerRunner('javascript', { label: 'JavaScript', run: (code, ctx) => runInSandbox('js', code, ctx), test: scriptTests(false) })
registerRunner('typescript', {
  label: 'TypeScript',
  test: scriptTests(true),
  async run(code, ctx) {
    let strip: (code: string) => string
    try {
      strip = await typeStripper()
    } catch {
      return ended(ctx, 'The code did not run: the TypeScript compiler could not be loaded. Check the connection to the Session Kit server, then run again.', true)
    }
    let js: string
    try {
      // Types removed, lines kept: errors point at the learner's own lines.
      js = strip(code)
    } catch (e) {
      return ended(ctx, `TypeScript: ${(e as Error).message}`)
    }
    return runInSandbox('js', js, ctx)
  },
})
const noPython = (ctx: RunContext) => ended(ctx, 'The code did not run: Python could not be loaded. Check the connection to the Session Kit server, then run again.', true)
registerRunner('python', {
  label: 'Python',
  run: (code, ctx) => later().then((m) => m.runPython(code, ctx), () => noPython(ctx)),
  test: (code, ctx) => later().then((m) => m.testPython(code, ctx), () => ({ ...noPython(ctx), tests: [] })),
})
registerRunner('html', { label: 'HTML', preview: true, run: (code, ctx) => runInSandbox('html', code, ctx) })
registerRunner('css', {
  label: 'CSS',
  preview: true,
  run: (code, ctx) =>
    runInSandbox('html', `<style>${code.replace(/<\/style/gi, '<\\/style')}</style><h1>Heading</h1><p>A paragraph with <a href="#">a link</a>.</p><button>Button</button><ul><li>One</li><li>Two</li></ul>`, ctx),
})
