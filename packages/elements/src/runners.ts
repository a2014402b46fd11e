/**
 * Running learner code where it cannot hurt the page. Built-in runners use a sandboxed frame
 * (`<iframe sandbox="allow-scripts">` — an opaque origin with no cookies, storage or access to the
 * host page, and a policy that blocks all network access): JavaScript and TypeScript run in a
 * worker inside it, HTML/CSS in a frame nested inside it that cannot navigate away and has no
 * WebRTC. A hard time limit removes the frame, which stops any infinite loop without touching the
 * tab. Output arrives in batches and is capped, so code that prints without end neither freezes
 * the page nor outlives its limit. Hosts add languages with `registerRunner()`.
 */

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

export interface RunContext {
  /** Hard time limit. */
  timeoutMs: number
  /** Where a runner may put a visible preview (HTML) or its hidden frame. */
  container: HTMLElement
  /** Called for each line of output as it happens. */
  onOutput(line: OutputLine): void
  /** Called when lines are left out (past what the runner keeps), with how many. */
  onOmitted?(count: number): void
  /** Aborted when the person presses Stop. */
  signal: AbortSignal
}

/** A language's way of running code. */
export interface Runner {
  /** Shown to people: "JavaScript", "Python (Pyodide)" … */
  label: string
  /** Whether the runner shows a visual preview (so the runner element keeps room for it). */
  preview?: boolean
  run(code: string, ctx: RunContext): Promise<RunResult>
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

/** Where the sandbox frame page is served from (default, or `frameUrl: undefined`: beside these modules). */
export function configureRunner(opts: { frameUrl?: string | URL }) {
  if ('frameUrl' in opts) frameUrl = opts.frameUrl
}

function defaultFrameUrl(): URL {
  return new URL('../assets/runner-frame.html', import.meta.url)
}

/** How long the sandbox page may take to load before a run says it could not start. */
const START_LIMIT_MS = 15_000

const LEVELS: readonly OutputLevel[] = ['log', 'info', 'warn', 'error', 'debug']

/**
 * Messages from the sandbox frame (see assets/runner-frame.html). Output comes in batches of up to
 * 1,000 lines: their texts end to end, their lengths, a digit per line for its level (an index in
 * LEVELS), and [index, line] pairs for errors with a line — cheap to copy, unlike an object per line.
 */
type FrameMessage =
  | { type: 'ready' }
  | { type: 'output'; text?: unknown; sizes?: unknown; levels?: unknown; numbers?: unknown; dropped?: unknown; errors?: unknown }
  | { type: 'done' }

const count = (n: unknown) => (typeof n === 'number' && Number.isSafeInteger(n) && n > 0 ? n : 0)

/** The lines of an output message, checked (at most 1,000); and how many more it said it had. */
function unbatch(m: Extract<FrameMessage, { type: 'output' }>): { lines: OutputLine[]; past: number } {
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
 * Run code in a fresh sandbox frame. `mode` js: in a worker inside the frame; html: as a page in a
 * frame nested inside it (the frame stays as the preview until the next run).
 */
export function runInSandbox(mode: 'js' | 'html', code: string, ctx: RunContext): Promise<RunResult> {
  return new Promise((resolve) => {
    const started = performance.now()
    const output: OutputLine[] = []
    let kept = 0
    let late = 0
    let omitted = 0
    let errors = 0
    let settled = false
    const frame = document.createElement('iframe')
    frame.setAttribute('sandbox', 'allow-scripts')
    frame.setAttribute('title', mode === 'html' ? 'Preview of the page' : 'Code runner')
    frame.setAttribute('referrerpolicy', 'no-referrer')
    frame.className = mode === 'html' ? 'preview' : 'hidden-frame'
    if (mode === 'js') frame.setAttribute('aria-hidden', 'true')
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
    const finish = (timedOut: boolean, message?: string, notStarted = false) => {
      if (settled) return
      settled = true
      clearTimeout(limit)
      clearTimeout(starting)
      frame.removeEventListener('load', onLoad)
      window.removeEventListener('message', onMessage)
      ctx.signal.removeEventListener('abort', onAbort)
      if (message) add({ level: 'error', text: message }, true)
      // A worker (and any loop in it) dies with its frame; an HTML preview stays unless stopped.
      if (mode === 'js' || timedOut || notStarted) frame.remove()
      const failed = timedOut || message ? 1 : 0
      resolve({ ok: !failed && errors === 0, errors: errors + failed, durationMs: Math.round(performance.now() - started), timedOut, output, omitted, ...(notStarted ? { notStarted } : {}) })
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
          frame.contentWindow!.postMessage({ type: mode === 'js' ? 'run-js' : 'run-html', code }, '*')
          break
        case 'output': {
          // At most 1,000 lines a message (and 50,000 a run): the work per message stays small.
          const { lines, past } = unbatch(m)
          let skipped = past + count(m.dropped)
          for (const line of lines) if (!add(line)) skipped++
          errors += count(m.errors)
          omit(skipped)
          break
        }
        case 'done':
          finish(false)
          break
      }
    }
    const onAbort = () => finish(true, 'Stopped.')
    const src = String(frameUrl ?? defaultFrameUrl())
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

/** Sucrase's TypeScript transform, fetched only when TypeScript first runs. */
async function typeStripper(): Promise<(code: string) => string> {
  const url = String(new URL('../assets/ts-transform.js', import.meta.url))
  const { transform } = (await import(/* @vite-ignore */ /* webpackIgnore: true */ url)) as typeof import('sucrase')
  return (code) => transform(code, { transforms: ['typescript'], disableESTransforms: true }).code
}

/** A run that ends before the code starts, with one line saying why. */
function ended(ctx: RunContext, text: string, notStarted = false): RunResult {
  const line: OutputLine = { level: 'error', text }
  ctx.onOutput(line)
  return { ok: false, errors: 1, durationMs: 0, timedOut: false, output: [line], ...(notStarted ? { notStarted } : {}) }
}

registerRunner('javascript', { label: 'JavaScript', run: (code, ctx) => runInSandbox('js', code, ctx) })
registerRunner('typescript', {
  label: 'TypeScript',
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
registerRunner('html', { label: 'HTML', preview: true, run: (code, ctx) => runInSandbox('html', code, ctx) })
registerRunner('css', {
  label: 'CSS',
  preview: true,
  run: (code, ctx) =>
    runInSandbox('html', `<style>${code.replace(/<\/style/gi, '<\\/style')}</style><h1>Heading</h1><p>A paragraph with <a href="#">a link</a>.</p><button>Button</button><ul><li>One</li><li>Two</li></ul>`, ctx),
})
