/**
 * Running learner code where it cannot hurt the page. Built-in runners use a sandboxed frame
 * (`<iframe sandbox="allow-scripts">` — an opaque origin with no cookies, storage or access to the
 * host page, and a policy that blocks all network access): JavaScript and TypeScript run in a
 * worker inside it, HTML/CSS as the frame's own page. A hard time limit removes the frame, which
 * stops any infinite loop without touching the tab. Hosts add languages with `registerRunner()`.
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
  output: OutputLine[]
}

export interface RunContext {
  /** Hard time limit. */
  timeoutMs: number
  /** Where a runner may put a visible preview (HTML) or its hidden frame. */
  container: HTMLElement
  /** Called for each line of output as it happens. */
  onOutput(line: OutputLine): void
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

/** Where the sandbox frame page is served from (default: beside these modules). */
export function configureRunner(opts: { frameUrl?: string | URL }) {
  if (opts.frameUrl) frameUrl = opts.frameUrl
}

function defaultFrameUrl(): URL {
  return new URL('../../../assets/runner-frame.html', import.meta.url)
}

type FrameMessage =
  | { type: 'ready' }
  | { type: 'alive' }
  | { type: 'console'; level: OutputLevel; text: string }
  | { type: 'error'; text: string; line: number | null }
  | { type: 'done'; errors: number }

/**
 * Run code in a fresh sandbox frame. `mode` js: in a worker inside the frame; html: as the frame's
 * page (the frame stays as the preview until the next run).
 */
export function runInSandbox(mode: 'js' | 'html', code: string, ctx: RunContext): Promise<RunResult> {
  return new Promise((resolve) => {
    const started = performance.now()
    const output: OutputLine[] = []
    let errors = 0
    let settled = false
    const frame = document.createElement('iframe')
    frame.setAttribute('sandbox', 'allow-scripts')
    frame.setAttribute('title', mode === 'html' ? 'Preview of the page' : 'Code runner')
    frame.setAttribute('referrerpolicy', 'no-referrer')
    frame.className = mode === 'html' ? 'preview' : 'hidden-frame'
    if (mode === 'js') frame.setAttribute('aria-hidden', 'true')
    const add = (line: OutputLine) => {
      output.push(line)
      ctx.onOutput(line)
    }
    const finish = (timedOut: boolean, message?: string) => {
      if (settled) return
      settled = true
      clearTimeout(limit)
      window.removeEventListener('message', onMessage)
      ctx.signal.removeEventListener('abort', onAbort)
      if (message) add({ level: 'error', text: message })
      // A worker (and any loop in it) dies with its frame; an HTML preview stays unless stopped.
      if (mode === 'js' || timedOut) frame.remove()
      resolve({ ok: !timedOut && errors === 0 && !message, errors: errors + (timedOut || message ? 1 : 0), durationMs: Math.round(performance.now() - started), timedOut, output })
    }
    const onMessage = (e: MessageEvent) => {
      if (e.source !== frame.contentWindow || settled) return
      const m = e.data as FrameMessage
      switch (m?.type) {
        case 'ready':
          frame.contentWindow!.postMessage({ type: mode === 'js' ? 'run-js' : 'run-html', code }, '*')
          break
        case 'console':
          add({ level: m.level, text: String(m.text).slice(0, 10_000) })
          break
        case 'error':
          errors++
          add({ level: 'error', text: String(m.text).slice(0, 10_000), line: typeof m.line === 'number' ? m.line : null })
          break
        case 'done':
          finish(false)
          break
      }
    }
    const onAbort = () => finish(true, 'Stopped.')
    const limit = setTimeout(() => finish(true, `Stopped after ${ctx.timeoutMs / 1000} s: the time limit. Is there an endless loop?`), ctx.timeoutMs)
    window.addEventListener('message', onMessage)
    ctx.signal.addEventListener('abort', onAbort)
    frame.src = String(frameUrl ?? defaultFrameUrl())
    ctx.container.append(frame)
  })
}

/** TypeScript to JavaScript (types removed, lines kept) with Sucrase, fetched only when TypeScript runs. */
async function stripTypes(code: string): Promise<string> {
  const url = String(new URL('../../../assets/ts-transform.js', import.meta.url))
  const { transform } = (await import(/* @vite-ignore */ /* webpackIgnore: true */ url)) as typeof import('sucrase')
  return transform(code, { transforms: ['typescript'], disableESTransforms: true }).code
}

registerRunner('javascript', { label: 'JavaScript', run: (code, ctx) => runInSandbox('js', code, ctx) })
registerRunner('typescript', {
  label: 'TypeScript',
  async run(code, ctx) {
    let js: string
    try {
      js = await stripTypes(code)
    } catch (e) {
      const line: OutputLine = { level: 'error', text: `TypeScript: ${(e as Error).message}` }
      ctx.onOutput(line)
      return { ok: false, errors: 1, durationMs: 0, timedOut: false, output: [line] }
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
