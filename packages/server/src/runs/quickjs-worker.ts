/**
 * One JavaScript/TypeScript sandbox: a worker thread holding QuickJS compiled to WebAssembly, for
 * one run. The code inside QuickJS gets nothing from the host but `console` (captured) and timers
 * that run on virtual time (no waiting); there is no `process`, `require`, `fetch` or module
 * loader. The time limit is QuickJS's interrupt handler, memory and stack are QuickJS's own limits.
 */
import { JS_HARNESS, type TestResult } from '@session-kit/core/code-tests'
import { parentPort, workerData } from 'node:worker_threads'
import { newQuickJSWASMModule, type QuickJSContext, type QuickJSHandle, type QuickJSRuntime } from 'quickjs-emscripten'
import { capWasmMemory } from './memory-cap.js'
import type { RunRequest, SandboxMessage } from './messages.js'
import { OutputCap, type Stream } from './output.js'

export interface QuickJSWorkerData {
  memoryMb: number
}

const port = parentPort!
const data = workerData as QuickJSWorkerData
const post = (message: SandboxMessage) => port.postMessage(message)
const STACK_BYTES = 512 * 1024
const memory = capWasmMemory(data.memoryMb * 1024 * 1024)

/**
 * Set up inside QuickJS before any learner code: console and timers. It receives the host's
 * `write(stream, text)` and answers the function that runs the next due timer (false when none),
 * both kept out of the learner's reach.
 */
const PRELUDE = String.raw`(function (write) {
  'use strict'
  const keys = Object.keys, isArray = Array.isArray, stringify = JSON.stringify, getPrototypeOf = Object.getPrototypeOf
  function show(value, depth, top) {
    if (typeof value === 'string') return top ? value : stringify(value)
    if (typeof value === 'function') return '[Function: ' + (value.name || 'anonymous') + ']'
    if (typeof value === 'bigint') return String(value) + 'n'
    if (typeof value === 'symbol') return value.toString()
    if (value === null || typeof value !== 'object') return String(value)
    if (value instanceof Error) return value.stack ? value.name + ': ' + value.message + '\n' + value.stack.replace(/\n$/, '') : value.name + ': ' + value.message
    if (depth > 2) return isArray(value) ? '[Array]' : '[Object]'
    if (isArray(value)) {
      const items = []
      for (let i = 0; i < value.length && i < 100; i++) items.push(show(value[i], depth + 1, false))
      if (value.length > 100) items.push('... ' + (value.length - 100) + ' more items')
      return items.length ? '[ ' + items.join(', ') + ' ]' : '[]'
    }
    if (value instanceof Map) return 'Map(' + value.size + ') { ' + [...value].slice(0, 100).map(([k, v]) => show(k, depth + 1, false) + ' => ' + show(v, depth + 1, false)).join(', ') + ' }'
    if (value instanceof Set) return 'Set(' + value.size + ') { ' + [...value].slice(0, 100).map((v) => show(v, depth + 1, false)).join(', ') + ' }'
    const proto = getPrototypeOf(value)
    const name = proto && proto !== Object.prototype && proto.constructor && proto.constructor.name ? proto.constructor.name + ' ' : ''
    const parts = keys(value).slice(0, 100).map((k) => (/^[A-Za-z_$][\w$]*$/.test(k) ? k : stringify(k)) + ': ' + show(value[k], depth + 1, false))
    return name + (parts.length ? '{ ' + parts.join(', ') + ' }' : '{}')
  }
  const format = (args) => args.map((a) => { try { return show(a, 0, true) } catch { return '[value]' } }).join(' ')
  const line = (stream) => (...args) => write(stream, format(args) + '\n')
  const counts = {}
  const console = {
    log: line('stdout'), info: line('stdout'), debug: line('stdout'), dir: line('stdout'), table: line('stdout'),
    warn: line('stderr'), error: line('stderr'), trace: line('stderr'),
    assert: (ok, ...args) => { if (!ok) write('stderr', 'Assertion failed' + (args.length ? ': ' + format(args) : '') + '\n') },
    count: (label = 'default') => write('stdout', label + ': ' + (counts[label] = (counts[label] || 0) + 1) + '\n'),
    group: line('stdout'), groupEnd: () => {}, time: () => {}, timeEnd: () => {},
  }
  globalThis.console = console
  // Timers run in order of their due time without waiting for it.
  const timers = []
  let now = 0
  let next = 1
  const add = (fn, ms, args, every) => {
    const id = next++
    timers.push({ id, at: now + Math.max(0, Number(ms) || 0), fn, args, every })
    return id
  }
  const clear = (id) => {
    const i = timers.findIndex((t) => t.id === id)
    if (i !== -1) timers.splice(i, 1)
  }
  globalThis.setTimeout = (fn, ms, ...args) => add(fn, ms, args, null)
  globalThis.setInterval = (fn, ms, ...args) => add(fn, ms, args, Math.max(1, Number(ms) || 0))
  globalThis.clearTimeout = clear
  globalThis.clearInterval = clear
  globalThis.queueMicrotask = (fn) => { Promise.resolve().then(fn) }
  return function runNextTimer() {
    if (!timers.length) return false
    let first = 0
    for (let i = 1; i < timers.length; i++) if (timers[i].at < timers[first].at) first = i
    const timer = timers.splice(first, 1)[0]
    now = timer.at
    if (timer.every !== null) timers.push({ ...timer, at: now + timer.every })
    if (typeof timer.fn === 'function') timer.fn(...timer.args)
    return true
  }
})`

let output: OutputCap | null = null
let deadline = Infinity
let timedOut = false

async function start(): Promise<void> {
  const QuickJS = await newQuickJSWASMModule()
  // Loaded and exercised now, so a TypeScript run does not wait for it.
  const { transform } = await import('sucrase')
  transform('const warm: number = 1', { transforms: ['typescript'], disableESTransforms: true })
  // Everything a run needs is set up before the sandbox says it is ready: the run only runs.
  const runtime = QuickJS.newRuntime()
  runtime.setMaxStackSize(STACK_BYTES)
  runtime.setInterruptHandler(() => (Date.now() > deadline ? (timedOut = true) : false))
  const ctx = runtime.newContext()
  const harness = ctx.unwrapResult(ctx.evalCode(JS_HARNESS, '<session-kit>'))
  const nextTimer = prelude(ctx)
  post({ type: 'ready' })
  port.once('message', (request: RunRequest) => {
    output = new OutputCap((stream, text) => post({ type: 'output', stream, text }), (lines) => post({ type: 'dropped', lines }), request.outputLimit)
    deadline = Date.now() + request.timeoutMs
    const { job } = request
    const strip = (source: string) => (job.language === 'typescript' ? transform(source, { transforms: ['typescript'], disableESTransforms: true }).code : source)
    const names = job.kind === 'program' ? [job.entry] : [job.entry, ...(job.testFiles ?? [])]
    const files: Record<string, string> = {}
    let status: string
    let reason: string | undefined
    try {
      for (const name of names) files[name] = strip(job.files[name] ?? '')
      ;({ status, reason } = job.kind === 'program' ? runProgram(ctx, runtime, nextTimer, job.entry, files[job.entry]) : runTests(ctx, runtime, nextTimer, harness, job.entry, files, job.testFiles ?? []))
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error)
      if (names.some((name) => !(name in files))) {
        // A TypeScript file whose types cannot be stripped does not parse.
        output.write('stderr', `SyntaxError: ${message}\n`)
        ;({ status, reason } = { status: 'error', reason: `SyntaxError: ${message}` })
      } else ({ status, reason } = { status: 'error', reason: memory.reached ? 'memory' : `The sandbox crashed: ${message}` })
    }
    post({ type: 'done', status: status as 'passed', reason, dropped: output.dropped })
  })
}

interface Ended {
  status: string
  reason?: string
}

function prelude(ctx: QuickJSContext): QuickJSHandle {
  const write = ctx.newFunction('write', (stream, text) => {
    const s = ctx.getString(stream)
    output?.write(s === 'stderr' ? 'stderr' : 'stdout', ctx.getString(text))
  })
  const setup = ctx.unwrapResult(ctx.evalCode(PRELUDE, '<session-kit>'))
  const nextTimer = ctx.unwrapResult(ctx.callFunction(setup, ctx.undefined, write))
  setup.dispose()
  write.dispose()
  return nextTimer
}

/**
 * Runs jobs and due timers until `promise` settles (tests) or, for a program, until nothing is left
 * to run, as Node's event loop does; answers how the promise ended, or how the run ended.
 */
function settle(ctx: QuickJSContext, runtime: QuickJSRuntime, promise: QuickJSHandle, nextTimer: QuickJSHandle, program?: string): 'fulfilled' | 'rejected' | 'pending' | Ended {
  const state = () => {
    const s = ctx.getPromiseState(promise)
    if (s.type === 'rejected') s.error.dispose()
    else if (s.type === 'fulfilled' && !s.notAPromise) s.value.dispose()
    return s.type
  }
  for (;;) {
    const jobs = runtime.executePendingJobs()
    if (jobs.error) {
      const ended = uncaught(ctx, jobs.error, program)
      jobs.error.dispose()
      if (ended) return ended
    }
    if (!program && state() !== 'pending') return state()
    if (timedOut || Date.now() > deadline) return { status: 'timeout' }
    const ran = ctx.callFunction(nextTimer, ctx.undefined)
    if (ran.error) {
      // An error thrown by a timer ends a program, as in Node; during tests it is printed.
      const ended = uncaught(ctx, ran.error, program)
      ran.error.dispose()
      if (ended) return ended
      continue
    }
    const more = ctx.dump(ran.value) === true
    ran.value.dispose()
    if (!more && !runtime.hasPendingJob()) return state()
  }
}

/** An error that escaped: the end of the run if it is the time or memory limit, else printed. */
function uncaught(ctx: QuickJSContext, error: QuickJSHandle, file?: string): Ended | null {
  const limit = limitReached(ctx, error)
  if (limit) return limit
  const { text, line, where } = describe(ctx, error, file)
  output?.write('stderr', `Uncaught ${text}${where ? `\n${where}` : ''}\n`)
  return file ? { status: 'error', reason: line ? `${text} (${file}, line ${line})` : text } : null
}

function limitReached(ctx: QuickJSContext, error: QuickJSHandle): Ended | null {
  if (timedOut) return { status: 'timeout' }
  if (memory.reached && /out of memory/i.test(readString(ctx, error, 'message'))) return { status: 'error', reason: 'memory' }
  return null
}

function readString(ctx: QuickJSContext, handle: QuickJSHandle, key: string): string {
  if (ctx.typeof(handle) !== 'object') return key === 'message' ? ctx.typeof(handle) === 'string' ? ctx.getString(handle) : String(ctx.dump(handle)) : ''
  const value = ctx.getProp(handle, key)
  try {
    return ctx.typeof(value) === 'string' ? ctx.getString(value) : ''
  } finally {
    value.dispose()
  }
}

function describe(ctx: QuickJSContext, error: QuickJSHandle, file?: string): { text: string; line?: number; where: string } {
  if (ctx.typeof(error) !== 'object') return { text: readString(ctx, error, 'message'), where: '' }
  const name = readString(ctx, error, 'name') || 'Error'
  const message = readString(ctx, error, 'message')
  const stack = readString(ctx, error, 'stack')
  const frames = stack.split('\n').filter((l) => l.trim() && !l.includes('<session-kit>'))
  let line: number | undefined
  for (const frame of frames) {
    const m = /(?:\(|at )([^()]+?):(\d+)(?::\d+)?\)?\s*$/.exec(frame)
    if (m && (!file || m[1] === file)) {
      line = Number(m[2])
      break
    }
  }
  // A stack overflow repeats one frame thousands of times: the first ones say enough.
  const shown = frames.length > 10 ? [...frames.slice(0, 10), `    … ${frames.length - 10} more frames`] : frames
  return { text: message ? `${name}: ${message}` : name, line, where: shown.join('\n') }
}

const MODULE_SYNTAX = /^\s*(?:import\s*[\w{*'"]|export\s)|(?:^|[^\w$.])await\s/m

function runProgram(ctx: QuickJSContext, runtime: QuickJSRuntime, nextTimer: QuickJSHandle, file: string, source: string): Ended {
  const type = MODULE_SYNTAX.test(source) ? 'module' : 'global'
  const result = ctx.evalCode(source, file, { type })
  if (result.error) {
    const ended = uncaught(ctx, result.error, file)!
    result.error.dispose()
    return ended
  }
  const state = settle(ctx, runtime, result.value, nextTimer, file)
  if (typeof state === 'object') return state
  if (state === 'rejected') {
    const failure = ctx.getPromiseState(result.value)
    if (failure.type === 'rejected') {
      const ended = uncaught(ctx, failure.error, file)!
      failure.error.dispose()
      return ended
    }
  }
  result.value.dispose()
  return { status: 'passed' }
}

function runTests(
  ctx: QuickJSContext,
  runtime: QuickJSRuntime,
  nextTimer: QuickJSHandle,
  harness: QuickJSHandle,
  entry: string,
  files: Record<string, string>,
  testFiles: string[],
): Ended {
  const program = { name: entry, source: files[entry] ?? '' }
  const tests = testFiles.map((name) => ({ name, source: files[name] ?? '' }))
  const args = ctx.unwrapResult(ctx.evalCode(`(${JSON.stringify([program, tests])})`, '<session-kit>'))
  const programArg = ctx.getProp(args, 0)
  const testsArg = ctx.getProp(args, 1)
  let failed = 0
  let count = 0
  const report = ctx.newFunction('report', (result) => {
    const read = readResult(ctx, result)
    count++
    if (!read.passed) failed++
    post({ type: 'test', result: read })
  })
  const call = ctx.callFunction(harness, ctx.undefined, programArg, testsArg, report)
  for (const h of [programArg, testsArg, args, harness]) h.dispose()
  if (call.error) return uncaught(ctx, call.error, entry) ?? { status: 'error' }
  const state = settle(ctx, runtime, call.value, nextTimer)
  if (typeof state === 'object') return state
  if (state === 'pending') return { status: 'error', reason: 'The tests never finished: a test waits for something that never happens' }
  if (state === 'rejected') {
    const failure = ctx.getPromiseState(call.value)
    if (failure.type !== 'rejected') return { status: 'error' }
    const limit = limitReached(ctx, failure.error)
    if (limit) return limit
    // The program or a test file does not compile.
    const name = readString(ctx, failure.error, 'name') || 'Error'
    const message = readString(ctx, failure.error, 'message')
    const file = readString(ctx, failure.error, 'file')
    const lineHandle = ctx.getProp(failure.error, 'line')
    const line = ctx.typeof(lineHandle) === 'number' ? ctx.getNumber(lineHandle) : undefined
    lineHandle.dispose()
    failure.error.dispose()
    const text = `${name}: ${message}${file ? ` (${file}${line ? `, line ${line}` : ''})` : ''}`
    output?.write('stderr', `${text}\n`)
    return { status: 'error', reason: text }
  }
  call.value.dispose()
  if (!count) return { status: 'error', reason: 'No tests ran: the test files define none' }
  return { status: failed ? 'failed' : 'passed' }
}

function readResult(ctx: QuickJSContext, handle: QuickJSHandle): TestResult {
  const get = (key: string) => {
    const value = ctx.getProp(handle, key)
    const type = ctx.typeof(value)
    const out = type === 'string' ? ctx.getString(value) : type === 'number' ? ctx.getNumber(value) : type === 'boolean' ? ctx.dump(value) === true : undefined
    value.dispose()
    return out
  }
  const result: TestResult = { name: String(get('name') ?? ''), passed: get('passed') === true, durationMs: Number(get('durationMs') ?? 0) }
  const message = get('message')
  const file = get('file')
  const line = get('line')
  if (typeof message === 'string') result.message = message
  if (typeof file === 'string') result.file = file
  if (typeof line === 'number') result.line = line
  return result
}

start().catch((error: unknown) => post({ type: 'failed', message: error instanceof Error ? error.message : String(error) }))
