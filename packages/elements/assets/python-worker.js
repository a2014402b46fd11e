// Session Kit's Python runtime: the end of a worker's script inside the sandbox frame. The host page
// (src/python-runner.ts) puts Pyodide's loader and module in front of it as source text, and the
// frame (runner-frame.html) puts its console capture (batch, format, outbox) in front of that. It
// loads Python from the files it is handed, then runs one program (or test run) after another.
//
// It reaches nothing outside: the frame's policy allows no network, so Pyodide's requests for its
// own files are answered from the handed bytes, and a package index the host configured is asked
// through the host page, which fetches only under that address.

/** Where Pyodide thinks its files are (set by the host page): nothing is fetched from there (see `fetch` below). */
const INDEX = PYODIDE_INDEX
/** What a program may allocate: past it Python raises MemoryError instead of the tab running out. */
const MEMORY_LIMIT_MB = 512
const send = postMessage.bind(self)

const files = new Map()
let packages = null
let py = null
let runner = null
let snapshotMade = null
/** The current run's output: the frame's batching, fresh limits for each run. */
let box = null
let waitingSince = 0

const emit = (level, text, line, counted) => {
  if (!box) return
  box.add(level, text, line || null, counted)
  if (!waitingSince) waitingSince = performance.now()
}
const flush = () => {
  waitingSince = 0
  box?.flush()
}

/** A stream of Python's (stdout, stderr) cut into lines; the unfinished line is kept. */
function lines(level) {
  let decoder = new TextDecoder()
  let partial = ''
  return {
    write(bytes) {
      const text = partial + decoder.decode(bytes, { stream: true })
      const parts = text.split('\n')
      partial = parts.pop()
      for (const part of parts) emit(level, part)
      return bytes.length
    },
    /** The unfinished line, taken (it becomes the start of an input prompt). */
    take() {
      const rest = partial + decoder.decode()
      decoder = new TextDecoder()
      partial = ''
      return rest
    },
    end() {
      const rest = this.take()
      if (rest) emit(level, rest)
    },
  }
}
const stdout = lines('log')
const stderr = lines('error')

// Pyodide's requests: its own files from the bytes handed over; a configured package index through
// the host page (which checks the address); anything else goes to the real fetch, which the frame's
// policy refuses.
const realFetch = self.fetch.bind(self)
const asked = new Map()
let nextAsk = 0
self.fetch = async (input, init) => {
  const url = String(input instanceof Request ? input.url : input)
  if (url.startsWith(INDEX)) {
    const body = files.get(url.slice(INDEX.length))
    if (!body) return new Response('', { status: 404 })
    return new Response(body, { headers: { 'content-type': url.endsWith('.wasm') ? 'application/wasm' : 'application/octet-stream' } })
  }
  if (packages && url.startsWith(packages)) {
    const id = nextAsk++
    const answer = new Promise((resolve) => asked.set(id, resolve))
    send({ type: 'fetch', id, url, integrity: init && typeof init.integrity === 'string' ? init.integrity : undefined })
    const m = await answer
    if (!m.ok) throw new TypeError(String(m.error || 'The package could not be downloaded.'))
    return new Response(m.body, { status: 200 })
  }
  return realFetch(input, init)
}

// A program that allocates without end meets MemoryError at the limit: Emscripten grows the wasm
// memory through this, and a refusal makes malloc fail, which Python turns into MemoryError.
const grow = WebAssembly.Memory.prototype.grow
WebAssembly.Memory.prototype.grow = function (delta) {
  if (this.buffer.byteLength + delta * 65536 > MEMORY_LIMIT_MB * 1048576) throw new RangeError(`Python may use up to ${MEMORY_LIMIT_MB} MB`)
  return grow.call(this, delta)
}

// Python checks for signals every few dozen bytecode jumps and calls, reading this "buffer" (what
// pyodide.setInterruptBuffer takes). It never signals: it is a heartbeat while the program
// computes without a pause, when no timer can fire, so printed lines go out within 50 ms.
let beats = 0
const heartbeat = {
  get 0() {
    if (waitingSince && (++beats & 63) === 0 && performance.now() - waitingSince >= 50) flush()
    return 0
  },
  set 0(_) {},
}

// input(): a blocking read is impossible here (no SharedArrayBuffer without cross-origin
// isolation, which an LMS page rarely has). With JavaScript Promise Integration (JSPI) Pyodide's
// run_sync suspends the whole WebAssembly stack until a promise settles, so input() — anywhere, in
// any function — asks the host page and waits for the answer while the worker's event loop runs. A
// run is entered through callPromising so that the stack can be suspended.
let answering = null
const ask = (prompt) => {
  const text = stdout.take() + prompt
  flush()
  send({ type: 'input', prompt: text })
  return new Promise((resolve) => (answering = resolve))
}
const canSuspend = typeof WebAssembly.Suspending === 'function'

async function start(m) {
  files.set('pyodide.asm.wasm', m.wasm)
  files.set('python_stdlib.zip', m.stdlib)
  packages = typeof m.packages === 'string' && m.packages ? m.packages : null
  const lock = JSON.parse(m.lock)
  const load = (snapshot) =>
    loadPyodide({
      indexURL: INDEX,
      createPyodideModule,
      lockFileContents: lock,
      packageBaseUrl: packages || INDEX,
      stdout: (text) => emit('log', text),
      stderr: (text) => emit('error', text),
      ...(snapshot ? { _loadSnapshot: snapshot } : { _makeSnapshot: true }),
    })
  // Python's start is seconds of work; a snapshot of its memory once started makes the next start
  // (after a Stop, the time limit, running out of memory) take about one second. The host page
  // keeps the first start's snapshot and hands it to later ones; it is sent after the first run,
  // not to delay that run with 30 MB on the way.
  const snapshot = m.snapshot instanceof ArrayBuffer ? new Uint8Array(m.snapshot) : null
  if (snapshot) {
    try {
      py = await load(snapshot)
    } catch {
      py = null
    }
  }
  if (!py) {
    py = await load(null)
    try {
      // What this runner and the test harness import, imported once for every start.
      py.runPython('import ast, json, linecache, operator, os, shutil, traceback, types, unittest')
      snapshotMade = py.makeMemorySnapshot().buffer
    } catch {}
  }
  files.clear()
  py.setStdout({ write: (bytes) => stdout.write(bytes), isatty: false })
  py.setStderr({ write: (bytes) => stderr.write(bytes), isatty: false })
  py.setInterruptBuffer(heartbeat)
  py.registerJsModule('_session_kit', {
    ask,
    error: (text, line, counted) => {
      // What the program printed before the error comes before it, finished line or not.
      stdout.end()
      stderr.end()
      emit('error', String(text), typeof line === 'number' ? line : null, !!counted)
    },
    packages: packages || '',
    memory_limit_mb: MEMORY_LIMIT_MB,
    can_suspend: canSuspend,
  })
  const imports = Object.values(lock.packages).flatMap((p) => (p.package_type === 'package' ? p.imports : []))
  const scope = py.globals.get('dict')()
  scope.set('PACKAGE_IMPORTS', py.toPy(imports))
  py.runPython(RUNNER, { globals: scope, filename: '<session-kit>' })
  runner = scope.get('Runner')()
  scope.destroy()
}

async function run(m) {
  box = outbox(send, setTimeout, clearTimeout, performance.now.bind(performance))
  waitingSince = 0
  let broken = false
  try {
    if (packages) {
      const sources = [m.code, ...(m.tests || []).map((t) => t.source)].join('\n')
      await py.loadPackagesFromImports(sources, { messageCallback: (text) => emit('info', text), errorCallback: (text) => emit('error', text) })
    }
    const files = py.toPy(Object.fromEntries([[m.file, m.code], ...(m.tests || []).map((t) => [t.name, t.source])]))
    const call = m.tests ? runner.tests : runner.program
    const args = m.tests ? [m.file, files, m.harness] : [m.file, files]
    try {
      const result = canSuspend ? await call.callPromising(...args) : call(...args)
      if (m.tests) send({ type: 'tests', tests: JSON.parse(result) })
    } finally {
      call.destroy()
      files.destroy()
    }
    // Out of memory: the wasm memory stays grown, so the next run gets a new runtime.
    broken = runner.memory
  } catch (err) {
    // Not the program's exception (those are reported in Python): the runtime itself failed.
    broken = true
    emit('error', `Python stopped working: ${err && err.message ? err.message : err}. It starts again at the next run.`, null, true)
  }
  stdout.end()
  stderr.end()
  if (broken) send({ type: 'broken' })
  flush()
  box = null
  send({ type: 'done' })
  if (snapshotMade) send({ type: 'snapshot', bytes: snapshotMade }, [snapshotMade])
  snapshotMade = null
}

self.onmessage = async (e) => {
  const m = e.data
  if (!m || typeof m !== 'object') return
  if (m.type === 'start') {
    try {
      await start(m)
      send({ type: 'started' })
    } catch (err) {
      send({ type: 'failed', message: String((err && err.message) || err) })
    }
  } else if (m.type === 'run') run(m)
  else if (m.type === 'answer' && answering) {
    const resolve = answering
    answering = null
    resolve(typeof m.text === 'string' ? m.text : undefined)
  } else if (m.type === 'fetched' && asked.has(m.id)) {
    const resolve = asked.get(m.id)
    asked.delete(m.id)
    resolve(m)
  }
}

// The runner's Python half: each run in a fresh directory and a fresh __main__, input() through the
// host, errors as the learner's tracebacks (Pyodide's and this runner's frames left out), and the
// learner's modules forgotten afterwards so the next run imports them anew.
const RUNNER = `
import builtins, os, shutil, sys, traceback, types
import _pyodide, pyodide
import _session_kit as host
from pyodide.ffi import can_run_sync, run_sync

HOME = os.environ.get("HOME", "/home/pyodide")
WORK = HOME + "/run"
OWN = tuple(os.path.dirname(m.__file__) + "/" for m in (_pyodide, pyodide))
LIMIT = host.memory_limit_mb
NO_INPUT = (
    "input() needs a browser that can pause a program while it waits for a line "
    "(WebAssembly JavaScript Promise Integration: Chrome or Edge 137 or later). "
    "Here, give the program its data in the code instead."
)


def ask(prompt=""):
    sys.stdout.flush()
    sys.stderr.flush()
    if not (host.can_suspend and can_run_sync()):
        raise RuntimeError(NO_INPUT)
    line = run_sync(host.ask(str(prompt)))
    if line is None:
        raise EOFError("EOF when reading a line")
    return line


class Runner:
    def __init__(self):
        self.memory = False
        self.main = None

    def _prepare(self, files):
        os.chdir(HOME)
        shutil.rmtree(WORK, ignore_errors=True)
        os.makedirs(WORK)
        os.chdir(WORK)
        for name, text in files.items():
            path = os.path.join(WORK, name)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
        if sys.path[0] != "":
            sys.path.insert(0, "")
        builtins.input = ask
        self.memory = False
        return set(sys.modules), sys.modules.get("__main__")

    def _finish(self, before):
        known, main = before
        sys.stdout.flush()
        sys.stderr.flush()
        for name in [n for n in sys.modules if n not in known]:
            # The learner's modules: under the run's directory, or named relative to it (the
            # harness imports the program as "main" from "main.py").
            path = getattr(sys.modules[name], "__file__", None) or ""
            if path.startswith(WORK + "/") or (path and not path.startswith("/")):
                del sys.modules[name]
        if main is not None:
            sys.modules["__main__"] = main
        os.chdir(HOME)

    def program(self, name, files):
        before = self._prepare(files)
        main = types.ModuleType("__main__")
        main.__file__ = os.path.join(WORK, name)
        main.__builtins__ = builtins
        self.main = main
        try:
            sys.modules["__main__"] = main
            exec(compile(files[name], name, "exec", dont_inherit=True), main.__dict__)
        except SystemExit as e:
            self.exit(e)
        except BaseException as e:
            self.report(e, name)
        finally:
            self.main = None
            self._finish(before)

    def tests(self, name, files, harness):
        """Core's harness (the server's too) on the program and the test files: the results' JSON."""
        before = self._prepare(files)
        try:
            scope = {"__builtins__": builtins}
            exec(compile(harness, "<session-kit>", "exec", dont_inherit=True), scope)
            run = scope["__session_kit_run_tests"]
            return run(name, files[name], [(n, text) for n, text in files.items() if n != name])
        except BaseException as e:
            self.report(e, name)
            return "[]"
        finally:
            self._finish(before)

    def exit(self, e):
        sys.stdout.flush()
        sys.stderr.flush()
        code = e.code
        if code is None or code == 0:
            return
        text = f"SystemExit: the program exited with status {code}" if isinstance(code, int) else str(code)
        host.error(text, None, True)

    @staticmethod
    def where(e, name):
        """The line of the learner's file where the error happened: its innermost frame there."""
        if isinstance(e, SyntaxError) and e.filename == name and e.lineno:
            return e.lineno
        line, tb = None, e.__traceback__
        while tb is not None:
            if tb.tb_frame.f_code.co_filename in (name, os.path.join(WORK, name)):
                line = tb.tb_lineno
            tb = tb.tb_next
        return line

    def report(self, e, name):
        """A traceback as Python prints it, without Pyodide's frames or ours: the frames, then the
        error itself on a line of its own, with the learner's line."""
        line = self.where(e, name)
        if isinstance(e, MemoryError):
            # Free what the program holds, so that the report itself has memory to use.
            self.memory = True
            traceback.clear_frames(e.__traceback__)
            if self.main is not None:
                self.main.__dict__.clear()
        try:
            sys.stdout.flush()
            sys.stderr.flush()
            te = traceback.TracebackException.from_exception(e)
            for t in self._chain(te, set()):
                kept = [f for f in t.stack if f.filename != "<session-kit>" and not f.filename.startswith(OWN)]
                for f in kept:
                    if f.filename.startswith(WORK + "/"):
                        f.filename = f.filename[len(WORK) + 1 :]
                t.stack = traceback.StackSummary.from_list(kept)
                if (getattr(t, "filename", None) or "").startswith(WORK + "/"):
                    t.filename = t.filename[len(WORK) + 1 :]
            text = "".join(te.format())
            only = list(te.format_exception_only())
            at = next((i for i, part in enumerate(only) if not part.startswith(" ")), 0)
            message = "".join(only[at:])
            head = text[: len(text) - len(message)] if text.endswith(message) else text
            top = (getattr(e, "name", None) or "").split(".")[0]
            if isinstance(e, MemoryError):
                message = f"MemoryError: Python ran out of memory. A program here may use up to {LIMIT} MB: is a list or a string growing without end?"
            elif isinstance(e, ModuleNotFoundError) and not host.packages and top in PACKAGE_IMPORTS:
                message = f"ModuleNotFoundError: {top} is not available here: only Python's standard library is."
            head = head.rstrip("\\n")
            if head:
                host.error(head, None, False)
            host.error(message.rstrip("\\n"), line, True)
        except MemoryError:
            self.memory = True
            host.error(f"MemoryError: Python ran out of memory. A program here may use up to {LIMIT} MB.", line, True)

    def _chain(self, te, seen):
        while te is not None and id(te) not in seen:
            seen.add(id(te))
            yield te
            te = te.__cause__ or (None if te.__suppress_context__ else te.__context__)
`
