/**
 * One Python sandbox: a worker thread holding a fresh Pyodide, locked down, that serves one run
 * and is then thrown away. Started with the wasm module compiled once by the engine and, when
 * there is one, the interpreter's start-up image (a memory snapshot), so it is ready in a fraction
 * of a cold start. With `makeSnapshot` it instead starts cold, makes that image and hands it back.
 */
import { PYTHON_HARNESS, type TestResult } from '@session-kit/core/code-tests'
import { TextDecoder } from 'node:util'
import { parentPort, workerData } from 'node:worker_threads'
import { loadPyodide, type PyodideAPI } from 'pyodide'
import { capWasmMemory } from './memory-cap.js'
import type { RunRequest, SandboxMessage } from './messages.js'
import { OutputCap, type Stream } from './output.js'
import { PYTHON_GUARD } from './python-guard.js'
import { lockDownRealm } from './realm-lockdown.js'
import { WebAssemblyApi as WebAssembly, type WasmImports, type WasmModule } from './wasm.js'

export interface PythonWorkerData {
  indexURL: string
  wasm: WasmModule
  snapshot?: Uint8Array
  makeSnapshot?: boolean
  /** Shared with the engine, which writes 2 (SIGINT) into it at the deadline. */
  interrupt?: Int32Array
  memoryMb: number
}

interface PyCallable {
  (...args: unknown[]): unknown
}
interface PyTuple {
  toJs(options: { depth: number }): unknown
  destroy(): void
}

const port = parentPort!
const data = workerData as PythonWorkerData
const post = (message: SandboxMessage, transfer?: ArrayBuffer[]) => port.postMessage(message, transfer ?? [])

// The snapshot thread runs no learner code and needs no limit.
const memory = data.makeSnapshot ? { reached: false } : capWasmMemory(data.memoryMb * 1024 * 1024)

// Pyodide instantiates its wasm with WebAssembly.instantiate(bytes, imports): use the module the
// engine compiled instead, and take the host's shell and sockets out of the imports it is given.
const EACCES = 2
const instantiate = WebAssembly.instantiate
WebAssembly.instantiate = async function (source: unknown, imports?: WasmImports) {
  const env = imports?.env
  if (!env || !('__syscall_socket' in env)) return instantiate.call(WebAssembly, source, imports)
  env._emscripten_system = () => -1
  env.__syscall_socket = () => -EACCES
  env._dlopen_js = () => 0
  const instance = await instantiate.call(WebAssembly, data.wasm, imports)
  return { instance, module: data.wasm }
}

let output: OutputCap | null = null
const decoders: Record<Stream, TextDecoder> = { stdout: new TextDecoder(), stderr: new TextDecoder() }
const writer = (stream: Stream) => ({
  write(buffer: Uint8Array) {
    output?.write(stream, decoders[stream].decode(buffer, { stream: true }))
    return buffer.length
  },
  isatty: false,
})

async function start(): Promise<void> {
  const pyodide: PyodideAPI = await loadPyodide({
    indexURL: data.indexURL,
    jsglobals: Object.freeze(Object.create(null)),
    env: { HOME: '/home/pyodide' },
    stdout: () => {},
    stderr: () => {},
    ...(data.makeSnapshot ? { _makeSnapshot: true } : data.snapshot ? { _loadSnapshot: data.snapshot } : {}),
  })
  if (data.makeSnapshot) {
    // What every run imports is loaded once, into the image.
    pyodide.runPython('import ast, json, linecache, operator, traceback, types, unittest, asyncio')
    const snapshot = pyodide.makeMemorySnapshot()
    post({ type: 'snapshot', snapshot }, [snapshot.buffer as ArrayBuffer])
    return
  }
  pyodide.setStdout(writer('stdout'))
  pyodide.setStderr(writer('stderr'))
  pyodide.setStdin({ stdin: () => null })
  if (data.interrupt) pyodide.setInterruptBuffer(data.interrupt)
  const FS = pyodide.FS
  const namespace = pyodide.globals.get('dict')()
  pyodide.runPython(PYTHON_GUARD, { globals: namespace, filename: '<session-kit-guard>' })
  const guard = namespace.get('__session_kit_guard') as PyCallable & { destroy(): void }
  const [runProgram, runTests] = (guard(PYTHON_HARNESS) as { toJs(o: { depth: number }): PyCallable[] }).toJs({ depth: 1 })
  guard.destroy()
  namespace.destroy()
  lockDownRealm()
  // Pyodide reports a fatal error (a learner can cause one) on the console; the run's outcome says it.
  for (const level of ['log', 'info', 'warn', 'error', 'debug'] as const) console[level] = () => {}

  port.once('message', (request: RunRequest) => {
    const { job } = request
    output = new OutputCap((stream, text) => post({ type: 'output', stream, text }), (lines) => post({ type: 'dropped', lines }), request.outputLimit)
    let answer: [string, string | null, string | null]
    try {
      writeFiles(FS, job.files, new Set(job.testFiles ?? []))
      const source = job.files[job.entry] ?? ''
      const tests = (job.testFiles ?? []).map((name) => [name, job.files[name] ?? ''])
      const result = (job.kind === 'program' ? runProgram(job.entry, source) : runTests(job.entry, source, JSON.stringify(tests))) as PyTuple
      answer = result.toJs({ depth: 1 }) as typeof answer
      result.destroy()
    } catch (error) {
      // Pyodide itself failed (a trap in the interpreter): this run only.
      finish(memory.reached ? 'memory' : 'error', `The sandbox crashed: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`)
      return
    }
    const [status, reason, results] = answer
    if (status !== 'tests') return finish(status, reason ?? undefined)
    const tests = JSON.parse(results ?? '[]') as TestResult[]
    for (const result of tests) post({ type: 'test', result })
    if (!tests.length) finish('error', 'No tests ran: the test files define none')
    else finish(tests.some((t) => !t.passed) ? 'failed' : 'passed')
  })
  post({ type: 'ready' })
}

function finish(status: string, reason?: string) {
  for (const stream of ['stdout', 'stderr'] as const) output?.write(stream, decoders[stream].decode())
  const dropped = output?.dropped ?? 0
  // 'memory' is an error whose reason the engine words (it knows the limit).
  if (status === 'memory') post({ type: 'done', status: 'error', reason: 'memory', dropped })
  else post({ type: 'done', status: status as 'passed', reason, dropped })
}

/** The room's files in the working directory, so `import helpers` and `open('data.txt')` work; test files stay out. */
function writeFiles(FS: PyodideAPI['FS'], files: Record<string, string>, tests: Set<string>) {
  for (const [name, text] of Object.entries(files)) {
    if (tests.has(name) || name.startsWith('/') || name.split('/').includes('..')) continue
    const slash = name.lastIndexOf('/')
    if (slash > 0) FS.mkdirTree(`/home/pyodide/${name.slice(0, slash)}`)
    FS.writeFile(`/home/pyodide/${name}`, text)
  }
}

start().catch((error: unknown) => post({ type: 'failed', message: error instanceof Error ? error.message : String(error) }))
