import { expect } from '@open-wc/testing'
import { sendKeys } from '@web/test-runner-commands'
import type { SessionRunner } from './session-runner.js'
import { createSession, freshSid, viewOf, waitFor } from '../test-support/room.js'
import { outputLines, playground } from '../test-support/runner.js'
import { activityText } from './run-report.js'
import { announced, button, openRoom, shadow, statusText, testRows } from '../test-support/runner-room.js'

// "Run tests", input() and a runtime's download in <session-runner>, in a real room. Python is
// downloaded (13 MB) and started once for the page, by the first test that runs it.

/** Every status text and progress bar the runner showed while `during` ran. */
async function watchStatus<T>(runner: SessionRunner, during: () => Promise<T>) {
  const statuses: string[] = []
  const bars: string[] = []
  const look = () => {
    const s = statusText(runner)
    if (s && statuses.at(-1) !== s) statuses.push(s)
    const bar = shadow(runner).querySelector('progress')
    const label = bar?.getAttribute('aria-label')
    if (label && bars.at(-1) !== label) bars.push(label)
  }
  const observer = new MutationObserver(look)
  observer.observe(shadow(runner), { subtree: true, childList: true, characterData: true, attributes: true })
  try {
    return { value: await during(), statuses, bars }
  } finally {
    observer.disconnect()
  }
}

describe('<session-runner>: JavaScript tests', () => {
  it('runs the room’s tests on the file: each passed or failed with why, the summary said, a failure’s line a button to it', async () => {
    const sid = freshSid('js-tests')
    await createSession(sid, {
      'main.js': 'function add(a, b) {\n  return a + b\n}\n',
      'main.test.js': "test('adds', () => {\n  expect(add(1, 2)).toBe(3)\n})\n\ntest('adds wrongly', () => {\n  expect(add(2, 2)).toBe(5)\n})\n",
    })
    const { runner, editors } = await openRoom(sid, 'main.js', { more: ['main.test.js'] })
    expect(button(runner, 'run-button').textContent!.trim(), 'the program, never the test file').to.equal('Run main.js')
    const tests = button(runner, 'tests-button')
    expect(tests, 'Run tests is offered').to.not.equal(null)
    tests.click()
    await waitFor(() => shadow(runner).querySelector('[part=tests]') !== null, 10_000, 'test results')
    const rows = testRows(shadow(runner).querySelector('[part=tests]')!)
    expect(rows.map((r) => [r.outcome, r.name])).to.deep.equal([
      ['✓ Passed', 'adds'],
      ['✗ Failed', 'adds wrongly'],
    ])
    expect(rows[1]!.message).to.contain('received 4')
    expect(rows[1]!.where).to.equal('Go to main.test.js, line 6')
    expect(statusText(runner)).to.match(/^1 of 2 tests passed in \d+ ms$/)
    expect(announced(runner)).to.match(/^1 of 2 tests passed/)
    await expect(runner).to.be.accessible()

    const where = shadow(runner).querySelector('[part~=test-failed] [part=test-line]') as HTMLButtonElement
    where.click()
    const view = viewOf(editors[1]!)!
    await waitFor(() => view.hasFocus, 3000, 'the test file’s editor focused')
    expect(view.state.doc.lineAt(view.state.selection.main.head).number).to.equal(6)
  })

  it('a playground runner offers neither tests nor checks on the server, and an error’s line goes to its editor', async () => {
    const runner = await playground('const a = 1\nnull.x')
    expect(button(runner, 'tests-button')).to.equal(null)
    expect(button(runner, 'verify-button')).to.equal(null)
    await runner.run()
    const go = shadow(runner).querySelector('[part=line-button]') as HTMLButtonElement
    expect(go.textContent).to.equal('line 2')
  })

  it('an error’s line number in the console is a button to that line of the program', async () => {
    const sid = freshSid('js-line')
    await createSession(sid, { 'main.js': 'console.log("one")\nconsole.log("two")\nnull.x\n' })
    const { runner, editors } = await openRoom(sid, 'main.js')
    await runner.run()
    expect(outputLines(runner).at(-1)).to.match(/^line 3: TypeError/)
    const go = shadow(runner).querySelector('[part=line-button]') as HTMLButtonElement
    expect(go.textContent).to.equal('line 3')
    go.click()
    const view = viewOf(editors[0]!)!
    await waitFor(() => view.hasFocus, 3000, 'the editor focused')
    expect(view.state.doc.lineAt(view.state.selection.main.head).number).to.equal(3)
    await expect(runner).to.be.accessible()
  })
})

describe('<session-runner>: Python, input() and tests', function () {
  this.timeout(120_000)

  it('shows Python downloading and starting, then asks for input() in the console and echoes the answer', async () => {
    const sid = freshSid('py-input')
    await createSession(sid, { 'main.py': 'name = input("What is your name? ")\nprint(f"Hello, {name}!")\n' })
    const { runner } = await openRoom(sid, 'main.py', { timeout: 5 })
    const { statuses, bars } = await watchStatus(runner, async () => {
      button(runner, 'run-button').click()
      await waitFor(() => shadow(runner).querySelector('input.stdin') !== null, 100_000, 'the input field')
    })
    const downloading = statuses.filter((s) => s.startsWith('Downloading Python'))
    expect(downloading.length, statuses.join(' | ')).to.be.greaterThan(0)
    expect(downloading.at(-1)).to.match(/^Downloading Python — \d+\.\d of 1\d\.\d MB \(\d{1,3} %\)$/)
    expect(statuses).to.include('Starting Python…')
    expect(bars).to.include('Downloading Python')
    expect(statusText(runner)).to.equal('Running main.py…')
    expect(shadow(runner).querySelector('progress'), 'no progress bar once it runs').to.equal(null)

    const field = shadow(runner).querySelector('input.stdin') as HTMLInputElement
    expect(shadow(runner).activeElement, 'the field has the focus').to.equal(field)
    expect(field.labels![0]!.textContent!.trim()).to.equal('What is your name?')
    await expect(runner).to.be.accessible()
    await sendKeys({ type: 'Grace Hopper' })
    await sendKeys({ press: 'Enter' })
    await waitFor(() => statusText(runner).startsWith('Ran main.py'), 20_000, 'the end of the run')
    expect(outputLines(runner)).to.deep.equal(['What is your name? Grace Hopper', 'Hello, Grace Hopper!'])
    expect(shadow(runner).querySelector('input.stdin'), 'the field is gone').to.equal(null)
  })

  it('Escape ends the input (the program sees the end of input); Stop while it waits ends the run', async () => {
    const sid = freshSid('py-eof')
    await createSession(sid, { 'main.py': 'try:\n    input("Answer: ")\nexcept EOFError:\n    print("no more input")\n' })
    const { runner } = await openRoom(sid, 'main.py', { timeout: 5 })
    button(runner, 'run-button').click()
    await waitFor(() => shadow(runner).querySelector('input.stdin') !== null, 100_000, 'the input field')
    await sendKeys({ press: 'Escape' })
    await waitFor(() => statusText(runner).startsWith('Ran main.py'), 20_000, 'the end of the run')
    expect(outputLines(runner)).to.deep.equal(['Answer:', 'no more input'])

    const stopSid = freshSid('py-stop')
    await createSession(stopSid, { 'main.py': 'input("Waiting: ")\nprint("never")\n' })
    const other = await openRoom(stopSid, 'main.py', { timeout: 2 })
    button(other.runner, 'run-button').click()
    await waitFor(() => shadow(other.runner).querySelector('input.stdin') !== null, 30_000, 'the input field')
    // Waiting for input is not the program's time: the limit (2 s) does not end it.
    await new Promise((r) => setTimeout(r, 2500))
    expect(shadow(other.runner).querySelector('input.stdin')).to.not.equal(null)
    const stop = [...shadow(other.runner).querySelectorAll('button')].find((b) => b.textContent!.trim() === 'Stop')!
    stop.click()
    await waitFor(() => statusText(other.runner) === 'Stopped.', 10_000, 'the run stopped')
    expect(shadow(other.runner).querySelector('input.stdin')).to.equal(null)
    expect(outputLines(other.runner)).to.not.include('never')
  })

  it('runs the room’s Python tests: each passed or failed with why, the summary said, a failure’s line a button to it', async () => {
    const sid = freshSid('py-tests')
    await createSession(sid, {
      'main.py': 'def add(a, b):\n    return a + b\n',
      'test_main.py': 'from main import add\n\nassert add(1, 2) == 3\n\n\ndef test_wrong():\n    assert add(2, 2) == 5\n',
    })
    const { runner, editors } = await openRoom(sid, 'main.py', { more: ['test_main.py'] })
    const tests = button(runner, 'tests-button')
    expect(tests, 'Run tests is offered').to.not.equal(null)
    tests.click()
    await waitFor(() => shadow(runner).querySelector('[part=tests]') !== null, 100_000, 'test results')
    const rows = testRows(shadow(runner).querySelector('[part=tests]')!)
    expect(rows.map((r) => [r.outcome, r.name])).to.deep.equal([
      ['✓ Passed', 'assert add(1, 2) == 3'],
      ['✗ Failed', 'test_wrong'],
    ])
    expect(rows[1]!.message).to.contain('left: 4, right: 5')
    expect(rows[0]!.time).to.match(/ms$/)
    expect(statusText(runner)).to.match(/^1 of 2 tests passed in \d+ ms$/)
    expect(announced(runner)).to.match(/^1 of 2 tests passed/)
    await expect(runner).to.be.accessible()

    // The failure points at its line in test_main.py, shown in the second editor.
    const where = shadow(runner).querySelectorAll('[part~=test-failed] [part=test-line]')[0] as HTMLButtonElement
    expect(where.textContent).to.equal('Go to test_main.py, line 7')
    where.click()
    const view = viewOf(editors[1]!)!
    await waitFor(() => view.hasFocus, 3000, 'the test file’s editor focused')
    expect(view.state.doc.lineAt(view.state.selection.main.head).number).to.equal(7)
  })

  it('without test files there is no Run tests button, and asking for tests says how to add one', async () => {
    const sid = freshSid('py-no-tests')
    await createSession(sid, { 'main.py': 'print(1)\n' })
    const { runner } = await openRoom(sid, 'main.py')
    expect(button(runner, 'tests-button')).to.equal(null)
    expect(await runner.runTests()).to.equal(null)
    expect(statusText(runner)).to.equal('Add a test file, e.g. test_main.py, to run tests.')
    expect(announced(runner)).to.equal('Add a test file, e.g. test_main.py, to run tests.')
  })

  it('the room hears a run of tests as its counts, and one where no test ran as that, not as "0 of 0 passed"', () => {
    const base = { id: 1, userId: 'u', name: 'Grace', file: 'main.py', language: 'python', ok: false, durationMs: 5, timedOut: false, output: '', at: new Date().toISOString() }
    expect(activityText({ ...base, errors: 1, tests: { passed: 3, failed: 1 } })).to.equal('Grace ran tests on main.py — 3 of 4 passed')
    expect(activityText({ ...base, errors: 1, tests: { passed: 0, failed: 0 } })).to.equal('Grace ran tests on main.py — no test ran (the code has an error)')
    expect(activityText({ ...base, errors: 0 })).to.equal('Grace ran main.py — no errors')
  })
})
