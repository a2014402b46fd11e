import assert from 'node:assert/strict'
import { existsSync, rmSync } from 'node:fs'
import { after, describe, it } from 'node:test'
import { QueueFullError, RunEngine, type RunJob, type RunOutcome } from './engine.js'

// One engine for most tests: they run one after another, as a server with one slot runs them. Its
// time limit is generous, so a busy machine does not turn slow runs into timeouts; the tests of the
// limit itself use an engine of their own with a short one.
const engine = new RunEngine({ workers: 1, queueLimit: 8, timeoutMs: 20_000, memoryMb: 128, prestart: ['python', 'javascript'] })
after(() => engine.close())
const TIMEOUT_MS = 2000

const py = (source: string, files: Record<string, string> = {}): RunJob => ({ language: 'python', kind: 'program', entry: 'main.py', files: { 'main.py': source, ...files } })
const js = (source: string): RunJob => ({ language: 'javascript', kind: 'program', entry: 'main.js', files: { 'main.js': source } })
const pyTests = (program: string, tests: string): RunJob => ({
  language: 'python',
  kind: 'tests',
  entry: 'main.py',
  files: { 'main.py': program, 'test_main.py': tests },
  testFiles: ['test_main.py'],
})
const jsTests = (program: string, tests: string, language: 'javascript' | 'typescript' = 'javascript'): RunJob => {
  const ext = language === 'typescript' ? 'ts' : 'js'
  return { language, kind: 'tests', entry: `main.${ext}`, files: { [`main.${ext}`]: program, [`main.test.${ext}`]: tests }, testFiles: [`main.test.${ext}`] }
}
const stdout = (o: RunOutcome) => o.output.filter((c) => c.stream === 'stdout').map((c) => c.text).join('')
const stderr = (o: RunOutcome) => o.output.filter((c) => c.stream === 'stderr').map((c) => c.text).join('')
const brief = (o: RunOutcome) => JSON.stringify({ ...o, output: o.output.map((c) => ({ ...c, text: c.text.slice(0, 300) })) })

describe('programs', () => {
  it('Python: output on each stream and a passing run', async () => {
    const o = await engine.run(py('import sys\nprint("hello", 6 * 7)\nprint("careful", file=sys.stderr)\n'))
    assert.equal(o.status, 'passed', brief(o))
    assert.equal(stdout(o), 'hello 42\n')
    assert.equal(stderr(o), 'careful\n')
  })

  it('Python: an error names the learner’s file and line, without the sandbox’s frames', async () => {
    const o = await engine.run(py('def half(x):\n    return x / 0\n\nprint("before")\nhalf(4)\n'))
    assert.equal(o.status, 'error', brief(o))
    assert.equal(stdout(o), 'before\n')
    assert.equal(o.reason, 'ZeroDivisionError: division by zero (main.py, line 2)')
    assert.match(stderr(o), /^Traceback \(most recent call last\):\n {2}File "main\.py", line 5, in <module>\n[\s\S]*File "main\.py", line 2, in half\n[\s\S]*ZeroDivisionError: division by zero\n$/)
    assert.doesNotMatch(stderr(o), /session-kit|<exec>/)
  })

  it('Python: the program imports the room’s other files and reads its data', async () => {
    const o = await engine.run(py('import helpers\nprint(helpers.twice(21), open("data/n.txt").read())\n', { 'helpers.py': 'def twice(n):\n    return 2 * n\n', 'data/n.txt': 'seven' }))
    assert.equal(o.status, 'passed', brief(o))
    assert.equal(stdout(o), '42 seven\n')
  })

  it('Python: a syntax error is an error at its line', async () => {
    const o = await engine.run(py('x = 1\ndef broken(:\n    pass\n'))
    assert.equal(o.status, 'error', brief(o))
    assert.match(o.reason!, /^SyntaxError: .* \(main\.py, line 2\)$/)
    assert.match(stderr(o), /File "main\.py", line 2/)
  })

  it('JavaScript: console output and an error with its line', async () => {
    const o = await engine.run(js('console.log("sum", [1, 2], { a: 1 })\nconsole.error("oops")\nconst n = null\nn.length\n'))
    assert.equal(o.status, 'error', brief(o))
    assert.equal(stdout(o), 'sum [ 1, 2 ] { a: 1 }\n')
    assert.match(stderr(o), /^oops\nUncaught TypeError: /)
    assert.match(o.reason!, /^TypeError: .*null.* \(main\.js, line 4\)$/)
  })

  it('JavaScript: timers run in order, without waiting', async () => {
    const o = await engine.run(js('setTimeout(() => console.log("late"), 60000)\nsetTimeout(() => console.log("soon"), 10)\nawait null\nconsole.log("first")\n'))
    assert.equal(o.status, 'passed', brief(o))
    assert.equal(stdout(o), 'first\nsoon\nlate\n')
    assert.ok(o.durationMs < 5000)
  })

  it('JavaScript: a syntax error is an error at its line', async () => {
    const o = await engine.run(js('let a = 1\nlet b = ;\n'))
    assert.equal(o.status, 'error', brief(o))
    assert.match(o.reason!, /^SyntaxError: .* \(main\.js, line 2\)$/)
  })

  it('TypeScript: types are stripped and lines kept', async () => {
    const o = await engine.run({ language: 'typescript', kind: 'program', entry: 'main.ts', files: { 'main.ts': 'interface P { x: number }\nconst p: P = { x: 2 }\nconsole.log(p.x as number)\nthrow new Error("at four")\n' } })
    assert.equal(o.status, 'error', brief(o))
    assert.equal(stdout(o), '2\n')
    assert.equal(o.reason, 'Error: at four (main.ts, line 4)')
  })
})

describe('tests on code', () => {
  it('Python: asserts, test functions and TestCase methods, with what failed and where', async () => {
    const o = await engine.run(
      pyTests(
        'def add(a, b):\n    return a + b\n',
        'import unittest\nfrom main import add\nassert add(1, 2) == 3\nassert add(2, 2) == 5\n\ndef test_zero():\n    assert add(0, 0) == 0\n\ndef test_type():\n    add(1, "x")\n\nclass TestAdd(unittest.TestCase):\n    def test_neg(self):\n        self.assertEqual(add(-1, -1), -3)\n',
      ),
    )
    assert.equal(o.status, 'failed', brief(o))
    const by = Object.fromEntries(o.tests.map((t) => [t.name, t]))
    assert.deepEqual(Object.keys(by), ['assert add(1, 2) == 3', 'assert add(2, 2) == 5', 'test_zero', 'test_type', 'TestAdd.test_neg'])
    assert.equal(by['assert add(1, 2) == 3'].passed, true)
    assert.equal(by['assert add(2, 2) == 5'].message, 'left: 4, right: 5')
    assert.equal(by['assert add(2, 2) == 5'].line, 4)
    assert.equal(by.test_zero.passed, true)
    assert.match(by.test_type.message!, /^TypeError: unsupported operand/)
    assert.deepEqual([by.test_type.file, by.test_type.line], ['main.py', 2])
    assert.equal(by['TestAdd.test_neg'].message, '-2 != -3')
  })

  it('Python: all passing is passed; a test file without tests is an error', async () => {
    const ok = await engine.run(pyTests('def add(a, b):\n    return a + b\n', 'assert add(1, 2) == 3\n'))
    assert.equal(ok.status, 'passed', brief(ok))
    assert.equal(ok.tests.length, 1)
    const none = await engine.run(pyTests('x = 1\n', 'y = 2\n'))
    assert.equal(none.status, 'error', brief(none))
  })

  it('Python: a syntax error in the program or a test file is an error, not a failure', async () => {
    const program = await engine.run(pyTests('def add(a, b:\n    return a + b\n', 'assert add(1, 2) == 3\n'))
    assert.equal(program.status, 'error', brief(program))
    assert.match(program.reason!, /SyntaxError: .*\(main\.py, line 1\)/)
    const test = await engine.run(pyTests('def add(a, b):\n    return a + b\n', 'assert add(1, 2) == 3\nassert (\n'))
    assert.equal(test.status, 'error', brief(test))
    assert.match(test.reason!, /SyntaxError: .*test_main\.py, line 2/)
  })

  it('JavaScript: test and expect, with messages and lines', async () => {
    const o = await engine.run(
      jsTests(
        'export function add(a, b) {\n  return a + b\n}\n',
        "import { add } from './main.js'\ntest('adds', () => {\n  expect(add(1, 2)).toBe(3)\n})\ntest('wrong', () => {\n  expect(add(1, 2)).toBe(4)\n})\nit('async', async () => {\n  await new Promise((r) => setTimeout(r, 1000))\n  assert.equal(add(2, 2), 4)\n})\ntest('throws', () => add.call(null).x.y)\n",
      ),
    )
    assert.equal(o.status, 'failed', brief(o))
    assert.deepEqual(
      o.tests.map((t) => [t.name, t.passed, t.message, t.file, t.line]),
      [
        ['adds', true, undefined, 'main.test.js', 2],
        ['wrong', false, 'expected 4, received 3', 'main.test.js', 6],
        ['async', true, undefined, 'main.test.js', 8],
        ['throws', false, "TypeError: cannot read property 'y' of undefined", 'main.test.js', 12],
      ],
    )
  })

  it('TypeScript tests pass; a syntax error in a test file is an error', async () => {
    const ok = await engine.run(jsTests('export const add = (a: number, b: number): number => a + b\n', "import { add } from './main'\ndescribe('add', () => {\n  it('adds', () => expect(add(2, 3)).toEqual(5))\n})\n", 'typescript'))
    assert.equal(ok.status, 'passed', brief(ok))
    assert.deepEqual(ok.tests.map((t) => t.name), ['add > adds'])
    const broken = await engine.run(jsTests('export const add = (a, b) => a + b\n', "test('x', () => {\n  expect(1).toBe(1)\n)\n"))
    assert.equal(broken.status, 'error', brief(broken))
    assert.match(broken.reason!, /^SyntaxError: .*\(main\.test\.js, line 3\)$/)
  })
})

describe('limits', () => {
  const short = new RunEngine({ workers: 1, queueLimit: 8, timeoutMs: TIMEOUT_MS, memoryMb: 128, prestart: ['python', 'javascript'] })
  after(() => short.close())
  // The server's own event loop must keep answering while a sandbox spins.
  let worstLagMs = 0
  let last = performance.now()
  const ticker = setInterval(() => {
    const now = performance.now()
    worstLagMs = Math.max(worstLagMs, now - last - 10)
    last = now
  }, 10)
  after(() => clearInterval(ticker))
  /** Measure the stalls of one run only (not the file's earlier tests or the engine's start). */
  const fromNow = () => {
    worstLagMs = 0
    last = performance.now()
  }

  for (const [label, job] of [
    ['Python loop', py('while True:\n    pass\n')],
    ['Python loop that catches the interrupt', py('while True:\n    try:\n        while True: pass\n    except BaseException:\n        pass\n')],
    ['Python C loop that never checks', py('x = 10 ** 10 ** 8\n')],
    ['JavaScript loop', js('for (;;) {}\n')],
    ['JavaScript tests that never end', jsTests('export const f = () => 1\n', "test('spins', () => { while (true) {} })\n")],
  ] as const) {
    it(`${label}: stopped as a timeout within a second of the limit`, async () => {
      fromNow()
      const o = await short.run(job)
      assert.equal(o.status, 'timeout', brief(o))
      assert.equal(o.reason, 'Stopped after 2 s: the time limit')
      // From the moment the sandbox took the run (a busy machine may delay the next one's start).
      assert.ok(o.durationMs < TIMEOUT_MS + 1000, `took ${o.durationMs} ms`)
      assert.ok(worstLagMs < 500, `the event loop stalled for ${worstLagMs} ms`)
    })
  }

  it('memory bombs end as out of memory, and the server’s memory stays bounded', async () => {
    const before = process.memoryUsage().rss
    const p = await engine.run(py("x = []\nwhile True:\n    x.append('x' * 10**7)\n"))
    assert.equal(p.status, 'error', brief(p))
    assert.equal(p.reason, 'Out of memory: the program used more than 128 MB')
    const j = await engine.run(js("const a = []\nfor (;;) a.push('x'.repeat(1e7) + a.length)\n"))
    assert.equal(j.status, 'error', brief(j))
    assert.equal(j.reason, 'Out of memory: the program used more than 128 MB')
    const grew = (process.memoryUsage().rss - before) / 2 ** 20
    assert.ok(grew < 400, `RSS grew by ${Math.round(grew)} MB`)
  })

  it('deep recursion is an error, not a crash', async () => {
    const p = await engine.run(py('def f():\n    f()\nf()\n'))
    assert.equal(p.status, 'error', brief(p))
    assert.match(p.reason!, /^RecursionError: maximum recursion depth exceeded.*\(main\.py, line 2\)$/)
    const j = await engine.run(js('function f() { f() }\nf()\n'))
    assert.equal(j.status, 'error', brief(j))
    assert.match(j.reason!, /stack overflow|call stack/i)
  })

  for (const [label, job] of [
    ['Python', py("while True:\n    print('x')\n")],
    ['JavaScript', js("for (;;) console.log('x')\n")],
  ] as const) {
    it(`${label}: an output flood keeps the first 200 lines and counts the rest`, async () => {
      fromNow()
      const o = await short.run(job)
      assert.equal(o.status, 'timeout', brief(o))
      assert.equal(stdout(o), 'x\n'.repeat(200))
      const marker = /^… (\d+) more lines\n$/.exec(stderr(o))
      assert.ok(marker, brief(o))
      assert.ok(Number(marker[1]) > 1000)
      assert.ok(worstLagMs < 500, `the event loop stalled for ${worstLagMs} ms`)
    })
  }
})

describe('containment', () => {
  // Each attempt runs in one program and prints how it ended: "<attempt>: <exception>".
  const attempts: [string, string, RegExp][] = [
    ['js', 'import js', /ModuleNotFoundError: No module named 'js'/],
    ['pyodide_js', 'import pyodide_js\npyodide_js.loadPackage("/etc/passwd")', /ModuleNotFoundError: No module named 'pyodide_js'/],
    ['run_js', 'from pyodide.code import run_js\nrun_js("process")', /ModuleNotFoundError: No module named 'pyodide/],
    ['NODEFS', 'import pyodide_js\npyodide_js.FS.mount(pyodide_js.FS.filesystems.NODEFS, {"root": "/"}, "/mnt")', /ModuleNotFoundError/],
    ['_pyodide_core', 'import _pyodide_core', /ModuleNotFoundError: No module named '_pyodide_core'/],
    ['ctypes', 'import ctypes', /ModuleNotFoundError: No module named 'ctypes'/],
    // importlib and _imp still reach the built-in module behind the import statement's back: what
    // they give holds only the language's built-ins, and those compile nothing.
    ['to_js', 'import importlib\ncore = importlib.import_module("_pyodide_core")\nprint(core.to_js([]).constructor.constructor("return process")())', /Code generation from strings is disabled/],
    ['create_builtin', 'import _imp\nclass Spec:\n    name = "_pyodide_core"\ncore = _imp.create_builtin(Spec())\nf = core.to_js({}).constructor.constructor\nprint(f("return globalThis")())', /Code generation from strings is disabled/],
    [
      'ctypes by importlib',
      'import importlib, sys\nsys.modules["_ctypes"] = importlib.import_module("_ctypes")\nctypes = importlib.import_module("ctypes")\nctypes.CDLL(None).system(b"touch /tmp/session-kit-sandbox-escape")',
      /PermissionError: not permitted in this sandbox: ctypes/,
    ],
    ['system', 'import os\nos.system("touch /tmp/session-kit-sandbox-escape")', /PermissionError: not permitted in this sandbox: os\.system/],
    ['subprocess', 'import subprocess\nsubprocess.run(["touch", "/tmp/session-kit-sandbox-escape"])', /PermissionError|does not support processes/],
    ['socket', "import socket\nsocket.create_connection(('127.0.0.1', 5432), timeout=1)", /PermissionError: not permitted in this sandbox: socket/],
    ['host file', "open('/etc/passwd')", /FileNotFoundError/],
  ]

  it('Python: every way out of the sandbox is closed', async () => {
    const marker = '/tmp/session-kit-sandbox-escape'
    rmSync(marker, { force: true })
    const program = [
      'import os',
      "print('modules:', sorted(m for m in __import__('sys').modules if 'pyodide' in m or m == 'js'))",
      'def attempt(name, source):',
      '    try:',
      '        exec(source, {})',
      '        print(name + ": escaped")',
      '    except BaseException as error:',
      '        print(name + ": " + type(error).__name__ + ": " + str(error))',
      ...attempts.map(([name, source]) => `attempt(${JSON.stringify(name)}, ${JSON.stringify(source)})`),
      "print('root:', sorted(os.listdir('/')), 'DATABASE_URL' in os.environ)",
    ].join('\n')
    const o = await engine.run(py(program))
    assert.equal(o.status, 'passed', brief(o))
    const lines = stdout(o).split('\n')
    for (const [name, , expected] of attempts) {
      const line = lines.find((l) => l.startsWith(`${name}: `)) ?? ''
      assert.match(line, expected, name)
    }
    assert.ok(lines.includes('modules: []'), stdout(o))
    assert.ok(lines.includes("root: ['dev', 'home', 'lib', 'proc', 'tmp'] False"), stdout(o))
    assert.equal(existsSync(marker), false, 'no shell ran on the host')
  })

  it('JavaScript: no process, require, fetch, module loading or host', async () => {
    const o = await engine.run(
      js(
        "console.log(typeof process, typeof require, typeof fetch, typeof globalThis.process, new Function('return typeof process')())\nimport('fs').then(() => console.log('loaded'), (e) => console.log('no fs:', e.message))\n",
      ),
    )
    assert.equal(o.status, 'passed', brief(o))
    assert.match(stdout(o), /^undefined undefined undefined undefined undefined\nno fs: /)
    const r = await engine.run(js("require('fs').readFileSync('/etc/passwd')\n"))
    assert.equal(r.status, 'error', brief(r))
    assert.match(r.reason!, /ReferenceError: .*require/)
  })

  it('a program cannot make a failing test pass by patching built-ins', async () => {
    const p = await engine.run(
      pyTests(
        'import builtins, json\njson.dumps = lambda *a, **k: "[]"\nbuiltins.isinstance = lambda *a: True\nbuiltins.AssertionError = KeyError\ndef add(a, b):\n    return a - b\n',
        'assert add(1, 2) == 3\n',
      ),
    )
    assert.equal(p.status, 'failed', brief(p))
    assert.equal(p.tests[0].message, 'left: -1, right: 3')
    const j = await engine.run(
      jsTests(
        'Object.is = () => true\nJSON.stringify = () => "[]"\nArray.prototype.push = function () {}\nglobalThis.expect = () => ({ toBe() {} })\nexport const add = (a, b) => a - b\nvar expect = globalThis.expect\n',
        "test('adds', () => expect(add(1, 2)).toBe(3))\n",
      ),
    )
    assert.equal(j.status, 'failed', brief(j))
    assert.equal(j.tests[0].message, 'expected 3, received -1')
  })

  it('runs are isolated: what one program changes, the next run does not see', async () => {
    await engine.run(py('import builtins, json, unittest\nbuiltins.print = lambda *a, **k: None\njson.dumps = lambda *a, **k: "[]"\nunittest.TestCase.run = lambda *a, **k: None\n'))
    const p = await engine.run(pyTests('print("fresh")\ndef add(a, b):\n    return a - b\n', 'import unittest\nclass T(unittest.TestCase):\n    def test_add(self):\n        self.assertEqual(add(1, 2), 3)\n'))
    assert.equal(p.status, 'failed', brief(p))
    assert.equal(stdout(p), 'fresh\n')
    await engine.run(js('globalThis.console.log = () => {}\nObject.prototype.passed = true\n'))
    const j = await engine.run(jsTests('console.log("fresh")\nexport const add = (a, b) => a - b\n', "test('adds', () => expect(add(1, 2)).toBe(3))\n"))
    assert.equal(j.status, 'failed', brief(j))
    assert.equal(stdout(j), 'fresh\n')
  })
})

describe('the engine', () => {
  it('a sandbox that dies fails only its run; the next run gets a new one', async () => {
    const dead = await engine.run(py("import importlib\nprint('before')\nimportlib.import_module('_pyodide_core').trigger_fatal_error()\n"))
    assert.equal(dead.status, 'error', brief(dead))
    assert.match(dead.reason!, /^The sandbox crashed: /)
    assert.match(stdout(dead), /^before\n/)
    const next = await engine.run(py('print("alive")\n'))
    assert.equal(next.status, 'passed', brief(next))
    assert.equal(stdout(next), 'alive\n')
  })

  it('a program that exits ends with its status, not a crash', async () => {
    const o = await engine.run(py('import os\nprint("bye")\nos._exit(3)\n'))
    assert.deepEqual([o.status, o.reason, stdout(o)], ['error', 'The program exited with status 3', 'bye\n'])
    const ok = await engine.run(py('import sys\nsys.exit(0)\n'))
    assert.equal(ok.status, 'passed', brief(ok))
  })

  it('runs wait their turn in order, and beyond the queue the engine refuses with a retry time', async () => {
    const small = new RunEngine({ workers: 1, queueLimit: 1, timeoutMs: 1000, memoryMb: 64 })
    try {
      const first = small.run(js('const end = Date.now() + 300\nwhile (Date.now() < end) {}\nconsole.log("first")\n'))
      const second = small.run(js('console.log("second")\n'))
      assert.equal(small.running, 1)
      assert.equal(small.queued, 1)
      await assert.rejects(small.run(js('')), (error: unknown) => error instanceof QueueFullError && error.retryAfterMs > 0)
      const [a, b] = await Promise.all([first, second])
      assert.deepEqual([a.status, stdout(a), b.status, stdout(b)], ['passed', 'first\n', 'passed', 'second\n'])
      assert.equal(small.running + small.queued, 0)
    } finally {
      await small.close()
    }
    await assert.rejects(small.run(js('')), /closed/)
  })
})
