import { expect, fixture } from '@open-wc/testing'
import { html } from 'lit'
import '../define/session-recording.js'
import '../define/session-editor.js'
import type { SessionRoom } from '../session-room/session-room.js'
import type { SessionPlayer } from '../session-player/session-player.js'
import type { SessionRecording } from './session-recording.js'
import { createSession, freshSid, live, testServer, token, typeAt, waitFor } from '../test-support/room.js'

async function recording(sid: string, role: 'instructor' | 'learner' | 'observer', user: string, name: string) {
  const { url } = await testServer()
  const room = await fixture<SessionRoom>(html`<session-room server=${url} session=${sid} token=${await token(sid, role, user, name)}>
    <session-editor></session-editor><session-recording></session-recording>
  </session-room>`)
  const el = room.querySelector('session-recording') as SessionRecording
  await waitFor(() => room.status === 'live' && !el.shadowRoot!.textContent!.includes('Loading recordings'), 6000, `${role} loaded`)
  return { room, el, root: el.shadowRoot!, editor: room.querySelector('session-editor')! }
}

const button = (scope: ParentNode, label: RegExp) => [...scope.querySelectorAll('button')].find((b) => label.test(b.textContent!.trim())) as HTMLButtonElement | undefined
/** Click a button once it is there and enabled (a previous action may still be finishing). */
async function press(scope: ParentNode, label: RegExp) {
  await waitFor(() => button(scope, label)?.disabled === false, 6000, `button ${label}`)
  button(scope, label)!.click()
}

const roomBadge = (room: SessionRoom) => room.shadowRoot!.querySelector('[part=recording]')?.textContent ?? ''

describe('<session-recording> and <session-player>', () => {
  it('records with a visible notice for everyone, pauses, stops, and plays the code back', async () => {
    const sid = freshSid('rec')
    await createSession(sid, { 'main.js': '' }, 'ins')
    const ins = await recording(sid, 'instructor', 'ins', 'Ada')
    const lea = await recording(sid, 'learner', 'lea', 'Grace')
    await expect(ins.el).to.be.accessible()
    ;(ins.root.querySelector('input[name=title]') as HTMLInputElement).value = 'Loops'
    ins.root.querySelector('form')!.requestSubmit()
    await waitFor(() => roomBadge(lea.room) === 'This session is being recorded', 6000, 'the learner sees the Recording indicator')
    // Said once, with the notice (whose code loads with the first recording).
    await waitFor(() => (lea.room.shadowRoot!.querySelector('[role=status]')!.textContent ?? '').includes('Ada started recording'), 4000, 'the learner hears who started it')
    expect(button(lea.root, /^Pause$/)).to.equal(undefined, 'learners cannot control the recording')
    const view = await live(lea.editor)
    typeAt(view, 0, 'for (;;) {}')
    await waitFor(() => /^0:0[1-9]$/.test(ins.root.querySelector('[role=timer]')?.textContent ?? ''), 4000, 'the duration counter runs')
    await press(ins.root, /^Pause$/)
    await waitFor(() => roomBadge(lea.room) === 'Recording paused', 6000, 'paused for everyone')
    await expect(ins.el).to.be.accessible()
    const obs = await recording(sid, 'observer', 'obs', 'Linus')
    await waitFor(() => roomBadge(obs.room) === 'Recording paused', 6000, 'an observer who joins later sees the indicator too')
    expect(button(obs.root, /^(Pause|Resume|Stop)$/)).to.equal(undefined, 'observers cannot control the recording')
    await expect(obs.el).to.be.accessible()
    await press(ins.root, /^Resume$/)
    await waitFor(() => roomBadge(lea.room) === 'This session is being recorded', 6000, 'resumed')
    typeAt(view, view.state.doc.length, ' // done')
    await new Promise((r) => setTimeout(r, 200))
    await press(ins.root, /^Stop$/)
    await waitFor(() => roomBadge(lea.room) === '', 6000, 'the indicator goes away')
    await waitFor(() => button(lea.root, /^Play/) !== undefined, 10000, 'ready to play')
    expect(button(lea.root, /^Make public/)).to.equal(undefined, 'learners do not manage recordings')
    expect(button(lea.root, /^Download/)).to.not.equal(undefined)
    button(lea.root, /^Play/)!.click()
    await lea.el.updateComplete
    const player = lea.root.querySelector('session-player') as SessionPlayer
    await waitFor(() => player.duration > 0, 6000, 'the replay loaded')
    player.seek(player.duration)
    expect(player.files['main.js']).to.equal('for (;;) {} // done')
    player.seek(0)
    expect(player.files['main.js']).to.equal('')
    await expect(lea.el).to.be.accessible()
  })

  it('plays a public recording without a token, at 8×, with markers for chat and runs', async () => {
    const sid = freshSid('rec-pub')
    await createSession(sid, { 'main.js': '' }, 'ins')
    const { url } = await testServer()
    const ins = await token(sid, 'instructor', 'ins', 'Ada')
    const api = (method: string, path: string, body?: unknown) => fetch(`${url}/v1/sessions/${sid}${path}`, { method, headers: { authorization: `Bearer ${ins}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) })
    const rec = (await (await api('POST', '/recordings', { title: 'Public one', isPublic: true })).json()) as { id: string }
    const room = await recording(sid, 'instructor', 'ins', 'Ada')
    typeAt(await live(room.editor), 0, 'hello')
    room.room.client!.send({ type: 'chat', text: 'see?' })
    room.room.client!.send({ type: 'run', run: { file: 'main.js', language: 'javascript', ok: false, errors: 1, durationMs: 3, output: 'oops' } })
    await new Promise((r) => setTimeout(r, 400))
    await api('POST', `/recordings/${rec.id}/stop`)
    await waitFor(() => button(room.root, /^Copy share link/) !== undefined, 10000, 'ready and public')
    const player = await fixture<SessionPlayer>(html`<session-player server=${url} recording=${rec.id}></session-player>`)
    await waitFor(() => player.duration > 0, 6000, 'loaded without a token')
    expect(player.shadowRoot!.querySelectorAll('.mark-chat').length).to.equal(1)
    expect(player.shadowRoot!.querySelectorAll('.mark-run.failed').length).to.equal(1)
    const speed = player.shadowRoot!.querySelector('select')!
    speed.value = '8'
    speed.dispatchEvent(new Event('change'))
    player.play()
    await waitFor(() => player.currentTime >= player.duration, 4000, 'played to the end at 8×')
    expect(player.files['main.js']).to.equal('hello')
    await expect(player).to.be.accessible()
    const priv = await fixture<SessionPlayer>(html`<session-player server=${url} recording="not-a-recording"></session-player>`)
    await waitFor(() => priv.shadowRoot!.textContent!.includes('could not be loaded'), 6000, 'an error state')
  })
})
