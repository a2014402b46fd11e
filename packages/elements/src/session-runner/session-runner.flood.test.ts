import { expect, fixture } from '@open-wc/testing'
import { sendKeys } from '@web/test-runner-commands'
import { html } from 'lit'
import { MAX_RUN_OUTPUT } from '@session-kit/core'
import type { SessionRoom } from '../session-room/session-room.js'
import type { SessionRunner } from './session-runner.js'
import { reportOutput } from './run-report.js'
import { createSession, freshSid, testServer, token, waitFor } from '../test-support/room.js'
import { longestStall, outputLines, playground, sleep, stallFloor } from '../test-support/runner.js'

// Code that prints without end must not freeze the page it runs on, nor outlive its time limit.

const moreRow = (runner: SessionRunner) => runner.shadowRoot!.querySelector('[part=more]')?.textContent?.replace(/\s+/g, ' ').trim() ?? ''

/** Press the download button and read the file it makes (the download itself is not saved). */
async function download(runner: SessionRunner): Promise<{ name: string; text: string }> {
  const root = runner.shadowRoot!
  const file = new Promise<{ name: string; text: string }>((resolve) => {
    const onClick = async (e: Event) => {
      const a = e.target
      if (!(a instanceof HTMLAnchorElement) || !a.download) return
      e.preventDefault()
      root.removeEventListener('click', onClick, true)
      resolve({ name: a.download, text: await (await fetch(a.href)).text() })
    }
    root.addEventListener('click', onClick, true)
  })
  const button = root.querySelector('[part=download-button]') as HTMLButtonElement
  expect(button, 'a download button').to.not.equal(null)
  button.focus()
  await sendKeys({ press: 'Enter' })
  return file
}

describe('<session-runner> output floods', () => {
  // The host page must keep running its timers: no gap over 200 ms, plus what the machine's load
  // alone causes (measured with a loop that prints nothing), so a busy test machine does not fail it.
  let floor = 0
  before(async () => {
    floor = await stallFloor()
    console.log(`stall with a silent endless loop (the machine's load): ${floor} ms`)
  })

  it('20,000 lines under a 3 s limit: done at once, the first 1,000 shown, the rest counted and downloadable, the page never stalls', async () => {
    const runner = await playground("for (let i = 0; i < 20000; i++) console.log('line ' + i)", 'javascript', 3)
    const { value: result, timerMs, frameMs, tookMs } = await longestStall(() => runner.run())
    console.log(`20,000 lines (JavaScript): ${tookMs} ms, longest stall ${timerMs} ms (frames ${frameMs} ms)`)
    expect(result!.timedOut).to.equal(false)
    expect(result!.ok).to.equal(true)
    expect(tookMs).to.be.lessThan(3000)
    expect(timerMs, 'longest gap between host timers').to.be.lessThan(200 + floor)
    const shown = outputLines(runner)
    expect(shown.length).to.equal(1000)
    expect([shown[0], shown.at(-1)]).to.deep.equal(['line 0', 'line 999'])
    expect(moreRow(runner)).to.contain('19,000 more lines')
    const file = await download(runner)
    expect(file.name).to.equal('main.js-output.txt')
    const lines = file.text.trimEnd().split('\n')
    expect(lines.length).to.equal(20000)
    expect(lines.at(-1)).to.equal('line 19999')
    await expect(runner).to.be.accessible()
  })

  it('an endless console.log loop is stopped on time, the page stays responsive, and what is kept is capped', async () => {
    const runner = await playground('while (true) console.log(1)', 'javascript', 2)
    const { value: result, timerMs, frameMs, tookMs } = await longestStall(() => runner.run())
    console.log(`while (true) console.log(1), 2 s limit: ${tookMs} ms, longest stall ${timerMs} ms (frames ${frameMs} ms)`)
    expect(result!.timedOut).to.equal(true)
    expect(tookMs).to.be.lessThan(3000)
    expect(timerMs, 'longest gap between host timers').to.be.lessThan(200 + floor)
    const shown = outputLines(runner)
    expect(shown.length).to.equal(1001)
    expect(shown.at(-1)).to.contain('the time limit')
    expect(moreRow(runner)).to.match(/[\d,]+ more lines/)
    expect(runner.shadowRoot!.querySelector('[part=status]')!.textContent).to.contain('the time limit')
    const file = await download(runner)
    const kept = file.text.trimEnd().split('\n')
    expect(kept.length).to.equal(50_000 + 2)
    expect(kept.at(-2)).to.contain('the time limit')
    expect(kept.at(-1)).to.match(/^… [\d,]+ more lines were left out: the runner keeps the first 50,000 lines \(2 MB\) of output\.$/)
    expect(result!.output.length).to.equal(50_001)
    expect(result!.omitted).to.be.greaterThan(0)
    const wide = await playground("while (true) console.log('x'.repeat(1000))", 'javascript', 3)
    const cut = await wide.run()
    expect(cut!.output.reduce((n, l) => n + l.text.length + 1, 0), 'characters kept').to.be.within(2_000_000, 2_001_200)
  })

  // The HTML preview's floods and endless loops are in test/e2e/runner.test.ts: they need the
  // sandboxed frame in a process of its own, as Chromium runs it (puppeteer, under this runner,
  // turns that off).

  it('Stop ends a flood at once', async () => {
    const runner = await playground("let i = 0\nwhile (true) console.log('line', i++)", 'javascript', 30)
    const run = runner.run()
    await sleep(700)
    const stop = [...runner.shadowRoot!.querySelectorAll('button')].find((b) => b.textContent!.trim() === 'Stop')!
    stop.focus()
    const t0 = performance.now()
    await sendKeys({ press: 'Enter' })
    const result = await run
    expect(performance.now() - t0).to.be.lessThan(500)
    expect(result!.timedOut).to.equal(true)
    expect(outputLines(runner).at(-1)).to.equal('Stopped.')
    expect(outputLines(runner)[0]).to.equal('line 0')
  })

  it('what a flood tells the room stays within the protocol’s limit', async () => {
    const many = { ok: true, errors: 0, durationMs: 5, timedOut: false, output: Array.from({ length: 5000 }, (_, i) => ({ level: 'log' as const, text: `line ${i}` })), omitted: 100 }
    const text = reportOutput(many)
    expect(text.length).to.be.at.most(MAX_RUN_OUTPUT)
    expect(text.startsWith('line 0\nline 1\n')).to.equal(true)
    expect(text).to.match(/… [\d,]+ more lines$/)
    const long = reportOutput({ ...many, output: [{ level: 'error', text: 'x'.repeat(10_000), line: 3 }], omitted: 0 })
    expect(long.length).to.be.at.most(MAX_RUN_OUTPUT)
    expect(reportOutput({ ...many, output: [{ level: 'log', text: 'hi' }, { level: 'error', text: 'boom', line: 2 }], omitted: 0 })).to.equal('hi\nline 2: boom')

    const sid = freshSid('flood')
    await createSession(sid, { 'main.js': "for (let i = 0; i < 20000; i++) console.log('line ' + i)" })
    const { url } = await testServer()
    const room = await fixture<SessionRoom>(html`<session-room server=${url} session=${sid} token=${await token(sid, 'learner', 'lea', 'Grace')}><session-runner></session-runner></session-room>`)
    const observer = await fixture<SessionRoom>(html`<session-room server=${url} session=${sid} token=${await token(sid, 'observer', 'obs')}><session-runner></session-runner></session-room>`)
    const runner = room.querySelector('session-runner') as SessionRunner
    let result = null
    for (let tries = 0; !result && tries < 80; tries++) {
      result = await runner.run()
      if (!result) await sleep(100)
    }
    expect(result, 'the room’s code ran').to.not.equal(null)
    const seen = observer.querySelector('session-runner') as SessionRunner
    await waitFor(() => (seen.shadowRoot!.querySelector('[part=activity]')?.textContent ?? '').includes('Grace ran main.js — no errors'), 8000, 'the observer sees the run')
  })
})
