import { expect } from '@open-wc/testing'
import { runnerFor, type OutputLine, type RunContext, type TestFile } from './runners.js'

// Test files run against a program in the sandbox frame, with core's harness, for each built-in
// language that has tests.

function context(file: string, tests: TestFile[], timeoutMs = 10_000): RunContext & { file: string; tests: TestFile[]; lines: OutputLine[] } {
  const lines: OutputLine[] = []
  return { file, tests, lines, timeoutMs, container: document.body, signal: new AbortController().signal, onOutput: (l) => lines.push(l) }
}

const summary = (tests: { name: string; passed: boolean; message?: string }[]) => tests.map((t) => `${t.passed ? 'pass' : 'FAIL'} ${t.name}${t.message ? ` — ${t.message}` : ''}`)

describe('Tests in the sandbox', function () {
  this.timeout(90_000)

  it('JavaScript: passing and failing tests, with names, messages and the program’s output', async () => {
    const program = 'export function add(a, b) {\n  return a + b\n}\nexport const twice = (n) => n * 3\nconsole.log("program ran")'
    const tests = `import { add, twice } from './main.js'
test('adds', () => {
  expect(add(1, 2)).toBe(3)
})
describe('twice', () => {
  it('doubles', () => {
    expect(twice(2)).toBe(4)
  })
})`
    const ctx = context('main.js', [{ name: 'main.test.js', source: tests }])
    const result = await runnerFor('javascript')!.test!(program, ctx)
    expect(summary(result.tests)).to.deep.equal(['pass adds', 'FAIL twice > doubles — expected 4, received 6'])
    const failing = result.tests[1]!
    expect(failing).to.include({ file: 'main.test.js', line: 7 })
    expect(result.ok).to.equal(false)
    expect(ctx.lines.map((l) => l.text)).to.deep.equal(['program ran'])
  })

  it('JavaScript: all passing is ok; a program that does not compile says where', async () => {
    const ok = await runnerFor('javascript')!.test!('const sq = (n) => n * n', context('main.js', [{ name: 'sq.test.js', source: 'test("squares", () => expect(sq(3)).toBe(9))' }]))
    expect(summary(ok.tests)).to.deep.equal(['pass squares'])
    expect(ok.ok).to.equal(true)
    const ctx = context('main.js', [{ name: 'sq.test.js', source: 'test("squares", () => expect(sq(3)).toBe(9))' }])
    const broken = await runnerFor('javascript')!.test!('const sq = (n) => {\n  n *\n}}', ctx)
    expect(broken.ok).to.equal(false)
    expect(broken.tests).to.deep.equal([])
    expect(ctx.lines.at(-1)!.text).to.match(/^SyntaxError/)
  })

  it('TypeScript: types are stripped from the program and the tests, lines kept', async () => {
    const program = 'export function greet(name: string): string {\n  return `Hello, ${name}`\n}'
    const tests = "import { greet } from './main'\nconst who: string = 'Ada'\ntest('greets', () => {\n  expect(greet(who)).toBe('Hello, Ada')\n})\ntest('shouts', () => {\n  expect(greet(who)).toBe('HELLO, ADA')\n})"
    const result = await runnerFor('typescript')!.test!(program, context('main.ts', [{ name: 'main.test.ts', source: tests }]))
    expect(summary(result.tests)).to.deep.equal(['pass greets', 'FAIL shouts — expected "HELLO, ADA", received "Hello, Ada"'])
    expect(result.tests[1]).to.include({ file: 'main.test.ts', line: 7 })
    expect(result.ok).to.equal(false)
  })

  it('Python: asserts, test functions and TestCase methods pass and fail with messages', async () => {
    const program = 'def add(a, b):\n    return a + b\n\nprint("program ran")\n'
    const tests = `import unittest
from main import add

assert add(1, 2) == 3

def test_negative():
    assert add(-1, -1) == -3

class AddTest(unittest.TestCase):
    def test_zero(self):
        self.assertEqual(add(0, 0), 0)
`
    const ctx = context('main.py', [{ name: 'test_main.py', source: tests }], 60_000)
    const result = await runnerFor('python')!.test!(program, ctx)
    expect(summary(result.tests)).to.deep.equal(['pass assert add(1, 2) == 3', 'FAIL test_negative — assert add(-1, -1) == -3 (left: -2, right: -3)', 'pass AddTest.test_zero'])
    expect(result.tests[1]).to.include({ file: 'test_main.py', line: 7 })
    expect(result.ok).to.equal(false)
    expect(ctx.lines.map((l) => l.text)).to.deep.equal(['program ran'])
  })

  it('Python: all passing is ok, the program is imported afresh each run', async () => {
    const tests = [{ name: 'test_main.py', source: 'from main import VALUE\n\ndef test_value():\n    assert VALUE == 2\n' }]
    const first = await runnerFor('python')!.test!('VALUE = 1\n', context('main.py', tests, 60_000))
    expect(summary(first.tests)).to.deep.equal(['FAIL test_value — assert VALUE == 2 (left: 1, right: 2)'])
    const second = await runnerFor('python')!.test!('VALUE = 2\n', context('main.py', tests, 60_000))
    expect(summary(second.tests)).to.deep.equal(['pass test_value'])
    expect(second.ok).to.equal(true)
  })

  it('Python: a test file that is not valid Python is an error of the run, not a test', async () => {
    const ctx = context('main.py', [{ name: 'test_main.py', source: 'def test_x(:\n    pass\n' }], 60_000)
    const result = await runnerFor('python')!.test!('x = 1\n', ctx)
    expect(result.ok).to.equal(false)
    expect(result.tests).to.deep.equal([])
    expect(ctx.lines.at(-1)!.text).to.match(/^SyntaxError/)
    expect(ctx.lines.map((l) => l.text).join('\n')).to.contain('test_main.py')
  })
})
