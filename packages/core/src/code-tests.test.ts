import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { JS_HARNESS, type TestResult } from './code-tests.js'
import { isTestFile, runLanguage } from './index.js'

describe('isTestFile: which files are tests', () => {
  it('knows the usual names in each language, in folders too', () => {
    for (const name of ['test_main.py', 'main_test.py', 'tests/test_calc.py', 'main.test.js', 'main.test.mjs', 'main.test.ts', 'main.spec.js', 'main.spec.ts', 'src/a.spec.mts'])
      assert.equal(isTestFile(name), true, name)
  })

  it('leaves programs and look-alikes out', () => {
    for (const name of ['main.py', 'testing.py', 'test.py', 'contest_main.py', 'main.js', 'test.js', 'latest.js', 'main.test.jsx', 'test_main.js', 'notes.md', 'my_test.pyc'])
      assert.equal(isTestFile(name), false, name)
  })
})

describe('runLanguage: what runs a file', () => {
  it('maps extensions to the three languages, in any case', () => {
    assert.equal(runLanguage('main.py'), 'python')
    assert.equal(runLanguage('main.js'), 'javascript')
    assert.equal(runLanguage('lib/util.mjs'), 'javascript')
    assert.equal(runLanguage('main.test.ts'), 'typescript')
    assert.equal(runLanguage('Main.TS'), 'typescript')
  })

  it('is null for what no runner runs', () => {
    for (const name of ['README.md', 'index.html', 'style.css', 'Makefile', '.py', 'app.jsx', 'data.json']) assert.equal(runLanguage(name), null, name)
  })
})

// The harness runs in QuickJS on the server and in the browser; here it runs in Node's V8, which
// checks the same source under a third engine's stack format.
describe('JS_HARNESS in V8', () => {
  const harness = (0, eval)(JS_HARNESS) as (program: { name: string; source: string }, tests: { name: string; source: string }[]) => Promise<TestResult[]>
  const plain = (results: TestResult[]) => results.map((r) => ({ ...r, durationMs: 0 }))

  it('reports passes and failures with their lines', async () => {
    const program = { name: 'main.js', source: 'export function add(a, b) {\n  return a + b\n}\nfunction half(x) {\n  return x.y / 2\n}\n' }
    const tests = [
      {
        name: 'main.test.js',
        source: "import { add } from './main.js'\ntest('adds', () => {\n  expect(add(1, 2)).toBe(3)\n})\ntest('wrong', () => {\n  expect(add(1, 2)).toBe(4)\n})\nit('throws', () => half(null))\n",
      },
    ]
    assert.deepEqual(plain(await harness(program, tests)), [
      { name: 'adds', passed: true, durationMs: 0, file: 'main.test.js', line: 2 },
      { name: 'wrong', passed: false, message: 'expected 4, received 3', durationMs: 0, file: 'main.test.js', line: 6 },
      { name: 'throws', passed: false, message: "TypeError: Cannot read properties of null (reading 'y')", durationMs: 0, file: 'main.js', line: 5 },
    ])
  })

  it('rejects a program that does not compile', async () => {
    await assert.rejects(harness({ name: 'main.js', source: 'let x = ;' }, [{ name: 'a.test.js', source: "test('x', () => {})" }]), { name: 'SyntaxError', file: 'main.js' })
  })
})
