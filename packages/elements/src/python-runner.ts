/**
 * Python in the browser: Pyodide (CPython compiled to WebAssembly) in a module worker inside the
 * sandbox frame, loaded the first time Python runs on the page (this module too).
 *
 * The frame's policy allows no network, so this page downloads Pyodide's files from where these
 * modules are served (our server's /cdn/, never a third-party CDN), with progress, keeps them for the
 * page's life, and hands them to the frame as bytes. The frame and its worker stay between runs (each
 * run gets a fresh `__main__`, directory and output limits), so only the first run waits for Python
 * to start; Stop, the time limit, running out of memory or a crash remove the frame, and the next
 * run starts Python again from the bytes already here. The frame lives in the page's body, not in a
 * runner element, so re-rendering an element does not end it.
 *
 * The Python half (assets/python-worker.js) explains input(), the memory limit and tracebacks.
 */
import { ended, outputOf, sandboxSettings, START_LIMIT_MS, type RunContext, type RunResult, type TestFile, type TestRunResult } from './runners.js'
import type { TestResult } from '@session-kit/core/code-tests'
import { checkedTests, testRun, testsNotRun } from './sandbox-tests.js'

type Progress = NonNullable<RunContext['onProgress']>
type TestContext = RunContext & { file: string; tests: TestFile[] }

/** How long Python may take to start in the frame (about 2–6 s on a laptop). */
const PYTHON_START_LIMIT_MS = 90_000

/** What the worker is made of and started from, as downloaded. */
interface Runtime {
  wasm: ArrayBuffer
  stdlib: ArrayBuffer
  module: string
  loader: string
  lock: string
  glue: string
  /** Python's memory once started (about 30 MB), from the first start: later starts take a second, not several. */
  snapshot?: ArrayBuffer
}

const FILES = () => ({
  wasm: new URL('../assets/pyodide/pyodide.asm.wasm', import.meta.url),
  stdlib: new URL('../assets/pyodide/python_stdlib.zip', import.meta.url),
  module: new URL('../assets/pyodide/pyodide.asm.mjs', import.meta.url),
  loader: new URL('../assets/pyodide/pyodide.mjs', import.meta.url),
  lock: new URL('../assets/pyodide/pyodide-lock.json', import.meta.url),
  glue: new URL('../assets/python-worker.js', import.meta.url),
})
const SIZES = () => new URL('../assets/pyodide/sizes.json', import.meta.url)
type Downloaded = Exclude<keyof Runtime, 'snapshot'>
const NAMES: Record<Downloaded, string> = {
  wasm: 'pyodide.asm.wasm',
  stdlib: 'python_stdlib.zip',
  module: 'pyodide.asm.mjs',
  loader: 'pyodide.mjs',
  lock: 'pyodide-lock.json',
  glue: 'python-worker.js',
}

let downloading: Promise<Runtime> | null = null
const watching = new Set<Progress>()

/** Pyodide's files, downloaded once for the page's life; `onProgress` hears the bytes as they come. */
function download(onProgress?: Progress): Promise<Runtime> {
  if (onProgress) watching.add(onProgress)
  downloading ??= fetchRuntime().catch((e: unknown) => {
    downloading = null
    throw e
  })
  const done = () => onProgress && watching.delete(onProgress)
  downloading.then(done, done)
  return downloading
}

async function fetchRuntime(): Promise<Runtime> {
  const files = FILES()
  const keys = Object.keys(files) as Downloaded[]
  const loaded = new Map<Downloaded, number>()
  let sizes: Record<string, number> = {}
  let reported = 0
  const report = () => {
    const now = performance.now()
    if (now - reported < 100) return
    reported = now
    const got = [...loaded.values()].reduce((a, b) => a + b, 0)
    const total = keys.reduce((sum, k) => sum + (sizes[NAMES[k]] ?? 0), 0)
    for (const watch of watching) watch({ phase: 'download', loaded: got, total: Math.max(total, got) })
  }
  // The sizes come with the files, not before them: the total shows once they are here.
  void fetchBytes(SIZES()).then(
    (b) => (sizes = JSON.parse(new TextDecoder().decode(b)) as Record<string, number>),
    () => {},
  )
  const bytes = await Promise.all(
    keys.map((k) =>
      fetchBytes(files[k], (n) => {
        loaded.set(k, n)
        report()
      }),
    ),
  )
  const got = bytes.reduce((sum, b) => sum + b.byteLength, 0)
  for (const watch of watching) watch({ phase: 'download', loaded: got, total: got })
  const get = (k: Downloaded) => bytes[keys.indexOf(k)]!
  const text = (k: Downloaded) => new TextDecoder().decode(get(k))
  return { wasm: get('wasm'), stdlib: get('stdlib'), module: text('module'), loader: text('loader'), lock: text('lock'), glue: text('glue') }
}

/** A file's bytes, read as they arrive. */
async function fetchBytes(url: URL, onBytes?: (n: number) => void): Promise<ArrayBuffer> {
  const res = await fetch(url, { credentials: 'omit' })
  if (!res.ok || !res.body) throw new Error(`${url.pathname.split('/').pop()}: ${res.status} ${res.statusText}`.trim())
  const chunks: Uint8Array[] = []
  let n = 0
  const reader = res.body.getReader()
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    chunks.push(value)
    n += value.length
    onBytes?.(n)
  }
  const all = new Uint8Array(n)
  let at = 0
  for (const chunk of chunks) {
    all.set(chunk, at)
    at += chunk.length
  }
  return all.buffer
}

/** Where Pyodide believes its files are: nothing is fetched from there (python-worker.js answers). */
const PYODIDE_INDEX = 'https://pyodide.invalid/'

/**
 * The worker's source, a classic script: Pyodide's module and loader (ES modules: their exports
 * made plain values, `import.meta.url` a name under PYODIDE_INDEX), then our half. Pyodide's loader
 * refuses classic workers, which it tells by a working importScripts: here there is none.
 */
function workerSource(r: Runtime): string {
  const end = /export\s+default\s+_createPyodideModule\s*;?\s*$/
  const module = r.module.replace(end, '').replaceAll('import.meta.url', JSON.stringify(PYODIDE_INDEX + 'pyodide.asm.mjs'))
  if (!end.test(r.module) || /\bimport\.meta\b/.test(module)) throw new Error('pyodide.asm.mjs is not the Pyodide module this runner knows')
  const exports = /export\s*\{([^}]*)\}\s*;?\s*(\/\/# sourceMappingURL=\S*\s*)?$/.exec(r.loader)
  if (!exports || /\bimport\.meta\b/.test(r.loader)) throw new Error('pyodide.mjs is not the Pyodide loader this runner knows')
  const names = exports[1]!.split(',').map((e) => e.trim().split(/\s+as\s+/))
  const loader = r.loader.slice(0, exports.index) + `\nreturn {${names.map(([local, name]) => `${name ?? local}: ${local}`).join(', ')}}`
  return [
    `const PYODIDE_INDEX = ${JSON.stringify(PYODIDE_INDEX)};`,
    `self.importScripts = () => { throw new TypeError('importScripts is not available'); };`,
    `const createPyodideModule = (() => {\n${module}\nreturn _createPyodideModule\n})();`,
    `const { loadPyodide } = (() => {\n${loader}\n})();`,
    r.glue,
  ].join('\n')
}

/** Python running in a frame of its own, kept between runs. */
interface Python {
  frame: HTMLIFrameElement
  /** What it was started with (configureRunner): a change starts a new one. */
  settings: string
  /** Settles when Python has started (or could not: the message says why; `notStarted` the frame never loaded). */
  started: Promise<void>
  /** The current run's handler of the frame's messages. */
  listen: ((m: FrameMessage) => void) | null
  kill(): void
}

type FrameMessage = { type?: unknown; [key: string]: unknown }

class StartError extends Error {
  constructor(
    message: string,
    readonly notStarted: boolean,
  ) {
    super(message)
  }
}

let python: Python | null = null

function startPython(files: Runtime): Python {
  const { frameUrl, pythonPackages } = sandboxSettings()
  const frame = document.createElement('iframe')
  frame.setAttribute('sandbox', 'allow-scripts')
  frame.setAttribute('title', 'Python runner')
  frame.setAttribute('referrerpolicy', 'no-referrer')
  frame.setAttribute('aria-hidden', 'true')
  frame.tabIndex = -1
  frame.hidden = true
  frame.style.display = 'none'
  let ready = false
  let up = false
  let settle: { resolve(): void; reject(e: StartError): void }
  const started = new Promise<void>((resolve, reject) => (settle = { resolve, reject }))
  // A rejection nobody waits for (a run that was stopped) is not an error of the page.
  started.catch(() => {})
  const origin = new URL(frameUrl, location.href).origin
  const failStart = (message: string, notStarted = false) => {
    rt.kill()
    settle.reject(new StartError(message, notStarted))
  }
  const notLoaded = () => failStart(`The code did not run: the sandbox it runs in could not be loaded from ${origin}. Check the connection to the Session Kit server, then run again.`, true)
  let timer = setTimeout(notLoaded, START_LIMIT_MS)
  const onLoad = () => {
    if (ready) return
    clearTimeout(timer)
    timer = setTimeout(notLoaded, 1000)
  }
  const onMessage = (e: MessageEvent) => {
    if (e.source !== frame.contentWindow || !e.data || typeof e.data !== 'object') return
    const m = e.data as FrameMessage
    if (m.type === 'ready') {
      // A second "ready" is the frame loading again (moved in the page): Python is gone.
      if (ready) return rt.listen ? rt.listen({ type: 'crashed' }) : rt.kill()
      ready = true
      clearTimeout(timer)
      timer = setTimeout(() => failStart(`Python did not start within ${PYTHON_START_LIMIT_MS / 1000} s. Run again to retry.`), PYTHON_START_LIMIT_MS)
      let source: string
      try {
        source = workerSource(files)
      } catch (err) {
        return failStart(`Python could not start: ${(err as Error).message}.`)
      }
      // Copies: the page keeps its bytes to start Python again after a Stop.
      const wasm = files.wasm.slice(0)
      const stdlib = files.stdlib.slice(0)
      const snapshot = files.snapshot?.slice(0)
      const transfer = snapshot ? [wasm, stdlib, snapshot] : [wasm, stdlib]
      frame.contentWindow!.postMessage({ type: 'python', source, wasm, stdlib, snapshot, lock: files.lock, packages: pythonPackages ?? '' }, '*', transfer)
    } else if (m.type === 'snapshot') {
      if (m.bytes instanceof ArrayBuffer && !files.snapshot) files.snapshot = m.bytes
    } else if (!up && (m.type === 'started' || m.type === 'failed' || m.type === 'crashed')) {
      clearTimeout(timer)
      if (m.type !== 'started') return failStart(`Python could not start: ${String(m.message ?? 'the runtime stopped') || 'the runtime stopped'}.`)
      up = true
      settle.resolve()
    } else if (rt.listen) rt.listen(m)
    // The worker failed between runs (an error in a callback the last program left behind).
    else if (m.type === 'crashed') rt.kill()
  }
  const rt: Python = {
    frame,
    settings: JSON.stringify(sandboxSettings()),
    started,
    listen: null,
    kill() {
      clearTimeout(timer)
      window.removeEventListener('message', onMessage)
      frame.removeEventListener('load', onLoad)
      frame.remove()
      if (python === rt) python = null
    },
  }
  frame.addEventListener('load', onLoad)
  window.addEventListener('message', onMessage)
  frame.src = frameUrl
  ;(document.body ?? document.documentElement).append(frame)
  return rt
}

/** The warm runtime, or a new one (after a Stop, or the first time). */
function pythonFor(files: Runtime): { rt: Python; fresh: boolean } {
  if (python && (!python.frame.isConnected || python.settings !== JSON.stringify(sandboxSettings()))) python.kill()
  if (python) return { rt: python, fresh: false }
  python = startPython(files)
  return { rt: python, fresh: true }
}

// One run at a time per page: a run waits for the one before it, or ends at once if stopped
// before its turn (once it has begun, it handles Stop itself).
let queue: Promise<unknown> = Promise.resolve()
function inTurn<T>(signal: AbortSignal, stopped: () => T, work: () => Promise<T>): Promise<T> {
  let began = false
  const turn = queue.then(() => {
    if (signal.aborted) return undefined
    began = true
    return work()
  })
  queue = turn.catch(() => {})
  return new Promise<T>((resolve, reject) => {
    if (signal.aborted) return resolve(stopped())
    const onAbort = () => !began && resolve(stopped())
    signal.addEventListener('abort', onAbort, { once: true })
    turn.then(
      (r) => {
        signal.removeEventListener('abort', onAbort)
        if (began) resolve(r as T)
      },
      reject,
    )
  })
}

/** A run stopped before its code ran (Stop, as when it runs: `timedOut`). */
const stopped = (ctx: RunContext): RunResult => ({ ...ended(ctx, 'Stopped.'), timedOut: true })

/** A file name as the sandbox's file system takes it: relative, inside the run's directory. */
const fileName = (name: string | undefined, fallback: string) => (name ?? '').split('/').filter((p) => p && p !== '.' && p !== '..').join('/') || fallback

export function runPython(code: string, ctx: RunContext): Promise<RunResult> {
  return inTurn(ctx.signal, () => stopped(ctx), () => runOnce(code, ctx, null))
}

export function testPython(code: string, ctx: TestContext): Promise<TestRunResult> {
  return inTurn(
    ctx.signal,
    () => ({ ...stopped(ctx), tests: [] }),
    async () => {
      let harness: string
      try {
        harness = (await import('@session-kit/core/code-tests')).PYTHON_HARNESS
      } catch {
        return testsNotRun(ctx, 'The tests did not run: the test harness could not be loaded. Check the connection to the Session Kit server, then run again.')
      }
      return runOnce(code, ctx, { tests: ctx.tests.map((t) => ({ name: fileName(t.name, 'test.py'), source: t.source })), harness })
    },
  )
}

async function runOnce(code: string, ctx: RunContext, tests: null): Promise<RunResult>
async function runOnce(code: string, ctx: RunContext, tests: { tests: TestFile[]; harness: string }): Promise<TestRunResult>
async function runOnce(code: string, ctx: RunContext, tests: { tests: TestFile[]; harness: string } | null): Promise<RunResult | TestRunResult> {
  const withTests = <R extends RunResult>(r: R) => (tests ? { ...r, tests: [] as TestResult[] } : r)
  const aborted = new Promise<'aborted'>((resolve) => (ctx.signal.aborted ? resolve('aborted') : ctx.signal.addEventListener('abort', () => resolve('aborted'), { once: true })))
  let files: Runtime
  try {
    const got = await Promise.race([download(ctx.onProgress), aborted])
    // The download goes on for the next run; this one ends.
    if (got === 'aborted') {
      if (ctx.onProgress) watching.delete(ctx.onProgress)
      return withTests(stopped(ctx))
    }
    files = got
  } catch (err) {
    const origin = new URL(FILES().wasm.href, location.href).origin
    return withTests(ended(ctx, `The code did not run: Python could not be downloaded from ${origin} (${(err as Error).message}). Check the connection to the Session Kit server, then run again.`, true))
  }
  const { rt, fresh } = pythonFor(files)
  if (fresh) ctx.onProgress?.({ phase: 'start', loaded: 0, total: 1 })
  try {
    // Stopping while Python starts leaves it starting, for the next run.
    if ((await Promise.race([rt.started, aborted])) === 'aborted') return withTests(stopped(ctx))
  } catch (err) {
    const e = err as StartError
    return withTests(ended(ctx, e.message, e.notStarted))
  }
  if (fresh) ctx.onProgress?.({ phase: 'start', loaded: 1, total: 1 })
  return execute(rt, code, ctx, tests)
}

/** Run the code on a started runtime; the runtime is removed if the run ends any other way than by itself. */
function execute(rt: Python, code: string, ctx: RunContext, tests: { tests: TestFile[]; harness: string } | null): Promise<RunResult | TestRunResult> {
  return new Promise((resolve) => {
    const out = outputOf(ctx)
    const file = fileName(ctx.file ?? (ctx as Partial<TestContext>).file, 'main.py')
    let results: TestResult[] = []
    let broken = false
    let settled = false
    let ran = 0
    let since = performance.now()
    let timer: ReturnType<typeof setTimeout> | undefined
    const post = (m: unknown, transfer: Transferable[] = []) => rt.frame.contentWindow?.postMessage(m, '*', transfer)
    const finish = (timedOut: boolean, message?: string) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      ctx.signal.removeEventListener('abort', onAbort)
      rt.listen = null
      if (timedOut || message || broken) rt.kill()
      if (timer !== undefined) ran += performance.now() - since
      const result = out.result(ran, timedOut, message)
      resolve(tests ? testRun(result, results) : result)
    }
    // The time limit counts the code's own time: it pauses while the program waits for input.
    const limit = (ms: number) => {
      since = performance.now()
      timer = setTimeout(() => finish(true, `Stopped after ${ctx.timeoutMs / 1000} s: the time limit. Is there an endless loop?`), ms)
    }
    const pause = () => {
      clearTimeout(timer)
      ran += performance.now() - since
      timer = undefined
    }
    const onAbort = () => finish(true, 'Stopped.')
    rt.listen = (m) => {
      if (settled) return
      switch (m.type) {
        case 'output':
          out.take(m as Parameters<typeof out.take>[0])
          break
        case 'input': {
          // One question at a time (a program waiting for an answer asks nothing else).
          if (timer === undefined) break
          pause()
          const asking = ctx.onInput ? ctx.onInput(String(m.prompt ?? '')) : Promise.resolve(null)
          asking.then(
            (text) => {
              if (settled) return
              post({ type: 'answer', text: typeof text === 'string' ? text : null })
              limit(Math.max(0, ctx.timeoutMs - ran))
            },
            () => {
              if (settled) return
              post({ type: 'answer', text: null })
              limit(Math.max(0, ctx.timeoutMs - ran))
            },
          )
          break
        }
        case 'fetch':
          fetchPackage(m).then((answer) => !settled && post(answer.m, answer.transfer))
          break
        case 'tests':
          results = checkedTests(m.tests)
          break
        case 'broken':
          broken = true
          break
        case 'crashed':
          finish(false, `Python stopped: it ran out of memory or crashed. It starts again at the next run.`)
          break
        case 'done':
          finish(false)
          break
      }
    }
    ctx.signal.addEventListener('abort', onAbort)
    limit(ctx.timeoutMs)
    post({ type: 'run', file, code, ...(tests ? { tests: tests.tests, harness: tests.harness } : {}) })
  })
}

/** A package file the worker asks for: fetched by this page, only from under the configured package index. */
async function fetchPackage(m: FrameMessage): Promise<{ m: unknown; transfer: Transferable[] }> {
  const id = m.id
  const base = sandboxSettings().pythonPackages
  const url = String(m.url)
  if (!base || !url.startsWith(base)) return { m: { type: 'fetched', id, ok: false, error: `${url} is not in the package index.` }, transfer: [] }
  try {
    const res = await fetch(url, { credentials: 'omit', ...(typeof m.integrity === 'string' ? { integrity: m.integrity } : {}) })
    if (!res.ok) throw new Error(`${res.status} ${res.statusText}`.trim())
    const body = await res.arrayBuffer()
    return { m: { type: 'fetched', id, ok: true, body }, transfer: [body] }
  } catch (err) {
    return { m: { type: 'fetched', id, ok: false, error: `${url} could not be downloaded: ${(err as Error).message}` }, transfer: [] }
  }
}
