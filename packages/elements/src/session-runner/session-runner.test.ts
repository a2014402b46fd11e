import { expect, fixture } from '@open-wc/testing'
import { html } from 'lit'
import '../define/session-runner.js'
import '../define/session-editor.js'
import type { SessionRoom } from '../session-room/session-room.js'
import type { SessionRunner } from './session-runner.js'
import { createSession, freshSid, live, testServer, token, waitFor } from '../test-support/room.js'
import { outputLines as lines, playground } from '../test-support/runner.js'
import { configureRunner } from '../runners.js'

describe('<session-runner>', () => {
  it('runs JavaScript, capturing the console and errors with line numbers', async () => {
    const runner = await playground('console.log("hi", 1 + 1, { a: [1, 2] })\nconsole.warn("careful")\nnull.x')
    const result = await runner.run()
    expect(result!.ok).to.equal(false)
    expect(result!.errors).to.equal(1)
    expect(lines(runner)).to.deep.equal(['hi 2 {a: [1, 2]}', 'careful', 'line 3: TypeError: Cannot read properties of null (reading \'x\')'])
    expect(runner.shadowRoot!.querySelector('[part=status]')!.textContent).to.match(/1 error/)
    await expect(runner).to.be.accessible()
  })

  it('stops while(true){} within the time limit and the page stays responsive', async () => {
    const runner = await playground('while (true) {}', 'javascript', 1)
    let ticks = 0
    const timer = setInterval(() => ticks++, 50)
    const t0 = performance.now()
    const result = await runner.run()
    clearInterval(timer)
    const took = performance.now() - t0
    expect(result!.timedOut).to.equal(true)
    expect(took).to.be.lessThan(2500)
    expect(ticks).to.be.greaterThan(10, 'the page kept running timers during the loop')
    expect(lines(runner).at(-1)).to.contain('time limit')
  })

  it('says on which line the code is not valid JavaScript', async () => {
    const runner = await playground('const a = 1\nconsole.log("never")\nconst = a + 1')
    const result = await runner.run()
    expect(result!.ok).to.equal(false)
    expect(result!.errors).to.equal(1)
    const out = lines(runner)
    expect(out).to.have.length(1)
    expect(out[0]).to.match(/^line 3: SyntaxError/)
  })

  it('a run whose sandbox cannot load says it did not start, not that the time limit ran out', async () => {
    // Port 9 on this machine: nothing listens, as when the Session Kit server is down.
    configureRunner({ frameUrl: 'http://127.0.0.1:9/assets/runner-frame.html' })
    try {
      const runner = await playground('console.log("hi")', 'javascript', 5)
      const t0 = performance.now()
      const result = await runner.run()
      expect(performance.now() - t0).to.be.lessThan(4000, 'it says so without waiting for the time limit')
      expect(result!.notStarted).to.equal(true)
      expect(result!.timedOut).to.equal(false)
      const status = runner.shadowRoot!.querySelector('[part=status]')!.textContent!
      expect(status).to.contain('did not run')
      expect(status).to.contain('http://127.0.0.1:9')
      expect(status).not.to.contain('time limit')
      expect(status).not.to.contain('endless loop')
    } finally {
      configureRunner({ frameUrl: undefined })
    }
  })

  it('waits for timers and promises, and runs TypeScript', async () => {
    const runner = await playground('const n: number = await new Promise<number>((r) => setTimeout(() => r(41), 50))\nconsole.log(n + 1)', 'typescript')
    const result = await runner.run()
    expect(lines(runner)).to.deep.equal(['42'])
    expect(result!.ok).to.equal(true)
  })

  it('the sandbox cannot read the host page’s cookies, storage or DOM, or reach the network', async () => {
    document.cookie = 'secret=host-cookie-value'
    localStorage.setItem('secret', 'host-storage-value')
    const probe = `<script>
      const out = []
      try { out.push('dom:' + window.parent.document.title) } catch (e) { out.push('dom blocked') }
      try { out.push('cookie:' + document.cookie) } catch (e) { out.push('cookie blocked') }
      try { out.push('storage:' + localStorage.getItem('secret')) } catch (e) { out.push('storage blocked') }
      fetch('${location.origin}/').then(() => console.log('network open'), () => console.log('network blocked'))
      console.log(out.join(', '))
    </script>`
    const runner = await playground(probe, 'html', 3)
    await runner.run()
    await waitFor(() => lines(runner).some((l) => l.startsWith('network')), 3000, 'the network probe')
    const text = lines(runner).join('\n')
    expect(text).to.contain('dom blocked')
    expect(text).to.contain('cookie blocked')
    expect(text).to.contain('storage blocked')
    expect(text).to.contain('network blocked')
    expect(text).to.not.contain('host-cookie-value')
    expect(text).to.not.contain('host-storage-value')
    const frame = runner.shadowRoot!.querySelector('iframe')!
    expect(frame.getAttribute('sandbox')).to.equal('allow-scripts')
  })

  it('in a room: runs the file, shares the run, and observers cannot run', async () => {
    const sid = freshSid('run')
    await createSession(sid, { 'main.js': 'console.log("from the room")' })
    const { url } = await testServer()
    const room = await fixture<SessionRoom>(html`<session-room server=${url} session=${sid} token=${await token(sid, 'learner', 'lea', 'Grace')}>
      <session-editor></session-editor><session-runner></session-runner></session-room>`)
    const obsRoom = await fixture<SessionRoom>(html`<session-room server=${url} session=${sid} token=${await token(sid, 'observer', 'obs')}>
      <session-runner></session-runner></session-room>`)
    const editor = room.querySelector('session-editor')!
    await live(editor)
    const runButton = editor.shadowRoot!.querySelector('[part=run-button]') as HTMLButtonElement
    expect(runButton, 'the editor shows Run when a runner is in the room').to.not.equal(null)
    runButton.click()
    const runner = room.querySelector('session-runner') as SessionRunner
    await waitFor(() => lines(runner).includes('from the room'), 6000, 'room code ran')
    const obsRunner = obsRoom.querySelector('session-runner') as SessionRunner
    await waitFor(() => (obsRunner.shadowRoot!.querySelector('[part=activity]')?.textContent ?? '').includes('Grace ran main.js — no errors'), 6000, 'the observer sees the run')
    expect((obsRunner.shadowRoot!.querySelector('[part=run-button]') as HTMLButtonElement).disabled).to.equal(true)
    expect(obsRunner.shadowRoot!.textContent).to.contain('Observers can watch the code but not run it')
    await expect(obsRunner).to.be.accessible()
  })
})
