import { expect } from '@open-wc/testing'
import type { SessionRunner } from './session-runner.js'
import { createSession, freshSid, waitFor } from '../test-support/room.js'
import { announced, button, openRoom, shadow, testRows } from '../test-support/runner-room.js'

// "Check on the server" in <session-runner>: the server runs the stored code in its own sandbox.

describe('<session-runner>: checks on the server', function () {
  this.timeout(60_000)

  /** The verdict of the run the server was asked for, once it is final. */
  async function verdict(runner: SessionRunner, ms = 30_000) {
    let text = ''
    await waitFor(
      () => {
        text = shadow(runner).querySelector('[part=verified] .verdict')?.textContent?.trim() ?? ''
        return /^Verified on the server|could not be checked/.test(text)
      },
      ms,
      'the server’s verdict',
    )
    return text
  }

  it('runs the tests on the server from the saved code: the verdict with its version, each test, and the room sees it marked verified', async () => {
    const sid = freshSid('verify-tests')
    await createSession(sid, {
      'main.js': 'function add(a, b) {\n  return a + b\n}\n',
      'main.test.js': "test('adds', () => {\n  expect(add(1, 2)).toBe(3)\n})\n\ntest('adds wrongly', () => {\n  expect(add(2, 2)).toBe(5)\n})\n",
    })
    const { runner } = await openRoom(sid, 'main.js')
    const observer = await openRoom(sid, 'main.js', { who: { role: 'observer', user: 'obs', name: 'Olive' } })
    expect(button(observer.runner, 'verify-button'), 'observers cannot run code, on the server either').to.equal(null)
    const verify = button(runner, 'verify-button')
    expect(verify.textContent!.trim()).to.equal('Check on the server')
    verify.click()
    await waitFor(() => button(runner, 'verify-button').disabled, 2000, 'the button waits for the run')
    const text = await verdict(runner)
    expect(text).to.match(/^Verified on the server at version [0-9a-f]{8}: 1 of 2 tests passed\.$/)
    expect(announced(runner)).to.equal(text)
    const rows = testRows(shadow(runner).querySelector('[part=verified]')!)
    expect(rows.map((r) => [r.outcome, r.name])).to.deep.equal([
      ['✓ Passed', 'adds'],
      ['✗ Failed', 'adds wrongly'],
    ])
    expect(rows[1]!.message).to.contain('received 4')
    expect(button(runner, 'verify-button').disabled).to.equal(false)
    await expect(runner).to.be.accessible()
    await waitFor(
      () => (shadow(observer.runner).querySelector('[part=activity]')?.textContent ?? '').includes('Grace ran tests on main.js — 1 of 2 passed ✓ verified'),
      10_000,
      'the observer sees the verified run',
    )
  })

  it('without tests it runs the program; a program that never ends is stopped by the time limit, said in words', async () => {
    const sid = freshSid('verify-program')
    await createSession(sid, { 'main.js': 'console.log("checked")\n' })
    const { runner } = await openRoom(sid, 'main.js')
    button(runner, 'verify-button').click()
    await runner.updateComplete
    expect(await verdict(runner)).to.match(/^Verified on the server at version [0-9a-f]{8}: it ran without errors\.$/)
    expect(shadow(runner).querySelector('[part=verified] .server-output pre')!.textContent).to.contain('checked')

    const loop = freshSid('verify-loop')
    await createSession(loop, { 'main.js': 'while (true) {}\n' })
    const looping = await openRoom(loop, 'main.js')
    button(looping.runner, 'verify-button').click()
    expect(await verdict(looping.runner)).to.match(/: stopped by the time limit\.$/)
    expect(shadow(looping.runner).querySelector('[part=verified] .reason')!.textContent).to.match(/time limit/)
  })

  it('over the server’s limit of runs a minute, it says so and when to try again', async () => {
    const sid = freshSid('verify-429')
    await createSession(sid, { 'main.js': 'console.log(1)\n' })
    const { runner } = await openRoom(sid, 'main.js', { who: { role: 'learner', user: 'eager', name: 'Eve' } })
    let answer = ''
    // Ten a minute each: the eleventh is refused.
    for (let i = 0; i < 12 && !answer; i++) {
      button(runner, 'verify-button').click()
      await runner.updateComplete
      const text = await verdict(runner)
      if (text.includes('could not be checked')) answer = text
    }
    expect(answer).to.match(/at most \d+ times a minute; try again in \d+ s\./)
    expect(button(runner, 'verify-button').disabled, 'the button waits as the server asked').to.equal(true)
  })
})
