import { expect, fixture } from '@open-wc/testing'
import { html } from 'lit'
import type { Replay, ReplayEvent } from '@session-kit/core'
import '../define/session-player.js'
import type { SessionPlayer } from './session-player.js'
import { waitFor } from '../test-support/room.js'

/** A downloaded replay file: Ada types "hello" in main.js over four seconds, runs it, Grace says "nice" and raises a hand. */
function replayFile(title = 'First steps'): string {
  const events: ReplayEvent[] = 'hello'.split('').map((ch, i) => ({ t: (i + 1) * 800, type: 'edit', userId: 'ada', splices: [{ file: 'main.js', at: i, del: 0, ins: ch }] }))
  events.push({ t: 4200, type: 'run', userId: 'ada', file: 'main.js', ok: true, errors: 0, timedOut: false, durationMs: 5 })
  events.push({ t: 4500, type: 'chat', userId: 'grace', text: 'nice' })
  events.push({ t: 4700, type: 'lecture', userId: 'grace', change: { kind: 'hand-raised', userId: 'grace', name: 'Grace' } })
  const replay: Replay = {
    version: 1,
    recording: { id: 'r1', sessionId: 's1', sessionTitle: 'Loops', title, description: null, startedAt: '2026-01-01T10:00:00Z', durationMs: 5000 },
    files: { 'main.js': '' },
    events,
    keyframes: [{ index: 0, t: 0, files: { 'main.js': '' } }],
    participants: { ada: { name: 'Ada', color: '#6d28d9' }, grace: { name: 'Grace', color: '#0f766e' } },
  }
  return URL.createObjectURL(new Blob([JSON.stringify(replay)], { type: 'application/json' }))
}

const shown = (player: SessionPlayer) => player.shadowRoot!.textContent!.replace(/\s+/g, ' ')
const code = (player: SessionPlayer) => player.shadowRoot!.querySelector('.cm-content')?.textContent ?? ''
const playButton = (player: SessionPlayer) => [...player.shadowRoot!.querySelectorAll('button')].find((b) => /^(Play|Pause)$/.test(b.textContent!.trim()))!

describe('<session-player>', () => {
  it('says when no recording is chosen', async () => {
    const player = await fixture<SessionPlayer>(html`<session-player></session-player>`)
    expect(shown(player)).to.include('No recording chosen.')
  })

  it('loads a replay file and shows its title, length, moments and the code at the start', async () => {
    const player = await fixture<SessionPlayer>(html`<session-player src=${replayFile()}></session-player>`)
    await waitFor(() => player.duration > 0 && !!player.shadowRoot!.querySelector('.cm-content'), 6000, 'the recording loaded')
    expect(player.shadowRoot!.querySelector('h2')!.textContent).to.equal('First steps')
    expect(shown(player)).to.include('Loops · 0:05')
    expect(shown(player)).to.include('0:00 / 0:05')
    expect(playButton(player).textContent!.trim()).to.equal('Play')
    expect(code(player)).to.equal('')
    expect(shown(player)).to.include('Runs, chat and lecture (3)')
    expect(shown(player)).to.include('Ada ran main.js: no errors')
    expect(shown(player)).to.include('Grace: nice')
    expect(shown(player)).to.include('0:04 — Grace raised a hand')
    expect(player.shadowRoot!.querySelectorAll('.mark-lecture').length).to.equal(1)
    // The timeline says in words where its marks are: each mark is a moment in the list.
    const timeline = player.shadowRoot!.querySelector('[part=timeline]')!
    expect(timeline.getAttribute('role')).to.equal('img')
    expect(timeline.getAttribute('aria-label')).to.equal('Timeline marks: each is in the list “Runs, chat and lecture (3)” below')
    const listed = [...player.shadowRoot!.querySelectorAll('[part=moments] li')].map((li) => li.textContent!.replace(/\s+/g, ' ').trim())
    const marks = [...timeline.querySelectorAll('title')].map((t) => t.textContent!)
    expect(marks).to.have.length(listed.length)
    marks.forEach((mark, i) => expect(listed[i], 'the mark and the moment agree').to.contain(mark))
    await expect(player).to.be.accessible()
  })

  it('plays and pauses: the code is typed out, and stays put while paused', async () => {
    const player = await fixture<SessionPlayer>(html`<session-player src=${replayFile()}></session-player>`)
    await waitFor(() => player.duration > 0 && !!player.shadowRoot!.querySelector('.cm-content'), 6000, 'the recording loaded')
    const speed = player.shadowRoot!.querySelector('select')!
    speed.value = '2'
    speed.dispatchEvent(new Event('change'))
    playButton(player).click()
    await player.updateComplete
    expect(playButton(player).textContent!.trim()).to.equal('Pause')
    await waitFor(() => code(player).length >= 2, 4000, 'some of the code typed')
    expect(shown(player)).to.include('Ada is typing in main.js')
    playButton(player).click()
    await player.updateComplete
    expect(playButton(player).textContent!.trim()).to.equal('Play')
    const at = player.currentTime
    const typed = code(player)
    expect('hello'.startsWith(typed)).to.equal(true, `"${typed}" is the start of what was typed`)
    await new Promise((r) => setTimeout(r, 300))
    expect(player.currentTime).to.equal(at)
    expect(code(player)).to.equal(typed)
    playButton(player).click()
    await waitFor(() => player.currentTime >= player.duration, 6000, 'played to the end')
    await player.updateComplete
    expect(code(player)).to.equal('hello')
    expect(shown(player)).to.include('0:05 / 0:05')
    expect(playButton(player).textContent!.trim()).to.equal('Play')
  })

  it('jumps to a moment from the list', async () => {
    const player = await fixture<SessionPlayer>(html`<session-player src=${replayFile()}></session-player>`)
    await waitFor(() => player.duration > 0 && !!player.shadowRoot!.querySelector('.cm-content'), 6000, 'the recording loaded')
    const moment = [...player.shadowRoot!.querySelectorAll<HTMLButtonElement>('.moments button')].find((b) => b.textContent!.includes('ran main.js'))!
    moment.click()
    await player.updateComplete
    expect(player.currentTime).to.equal(4200)
    expect(code(player)).to.equal('hello')
    expect(shown(player)).to.include('0:04 / 0:05')
  })

  it('says so when the file cannot be loaded', async () => {
    const player = await fixture<SessionPlayer>(html`<session-player src="/no-such-replay.json"></session-player>`)
    await waitFor(() => !!player.shadowRoot!.querySelector('[role="alert"]'), 6000, 'an error')
    expect(shown(player)).to.include('The recording could not be loaded')
  })

  it('shows the recording chosen last, even when the one chosen before answers later', async () => {
    const slow = replayFile('The slow one')
    const fast = replayFile('The one chosen last')
    // The first file takes a second to arrive; the second comes at once.
    const realFetch = window.fetch
    let slowDone = false
    window.fetch = async (input, init) => {
      if (String(input) !== slow) return realFetch(input, init)
      await new Promise((r) => setTimeout(r, 1000))
      const res = await realFetch(input)
      slowDone = true
      return res
    }
    try {
      const player = await fixture<SessionPlayer>(html`<session-player src=${slow}></session-player>`)
      expect(shown(player)).to.include('Loading the recording…')
      player.src = fast
      await waitFor(() => player.shadowRoot!.querySelector('h2')?.textContent === 'The one chosen last', 6000, 'the second recording shown')
      await waitFor(() => slowDone, 6000, 'the first file arrived')
      await new Promise((r) => setTimeout(r, 100))
      await player.updateComplete
      expect(player.shadowRoot!.querySelector('h2')!.textContent).to.equal('The one chosen last')
      // Its code is there to play, in a working editor.
      await waitFor(() => !!player.shadowRoot!.querySelector('.cm-content'), 6000, 'the code shown')
      const moment = [...player.shadowRoot!.querySelectorAll<HTMLButtonElement>('.moments button')].find((b) => b.textContent!.includes('ran main.js'))!
      moment.click()
      await player.updateComplete
      expect(code(player)).to.equal('hello')
    } finally {
      window.fetch = realFetch
    }
  })
})
