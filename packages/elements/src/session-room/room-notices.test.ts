import { expect } from '@open-wc/testing'
import type { SessionRoom } from './session-room.js'
import { api, createSession, freshSid, mountRoom, token, waitFor } from '../test-support/room.js'

const notice = (room: SessionRoom) => room.shadowRoot!.querySelector<HTMLElement>('[part=notice]')?.textContent ?? ''
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** The bar's text is shown in full: nothing clipped or cut off with an ellipsis. */
function assertShownInFull(room: SessionRoom, width: number) {
  const bar = room.shadowRoot!.querySelector<HTMLElement>('[part~=status]')!
  const text = room.shadowRoot!.querySelector<HTMLElement>('[part=status-text]')!
  const el = room.shadowRoot!.querySelector<HTMLElement>('[part=notice]')!
  expect(text.scrollWidth, `the status text fits its box at ${width} px`).to.be.at.most(text.clientWidth + 1)
  const box = bar.getBoundingClientRect()
  for (const r of el.getClientRects()) {
    expect(r.right, `the notice stays inside the bar at ${width} px`).to.be.at.most(box.right + 0.5)
    expect(r.bottom, `the notice stays inside the bar at ${width} px`).to.be.at.most(box.bottom + 0.5)
  }
}

describe('<session-room> notices of permission changes', () => {
  it('says "Editing locked" in full at 1280 and 390 px for as long as it holds; "unlocked" only for a moment', async function () {
    this.timeout(40000)
    const sid = freshSid('notice-lock')
    await createSession(sid)
    const { room } = await mountRoom(sid, 'learner', 'lea', { name: 'Lea Learner-with-a-rather-long-name' })
    room.style.display = 'block'
    room.style.width = '1280px'
    await waitFor(() => room.status === 'live', 8000, 'live')
    const ins = await token(sid, 'instructor', 'ins', 'Ada Lovelace-Byron')
    await api('POST', `/v1/sessions/${sid}/lock`, ins)
    await waitFor(() => notice(room).includes('Editing locked by Ada Lovelace-Byron.'), 5000, 'the lock notice')
    await room.updateComplete
    assertShownInFull(room, 1280)
    room.style.width = '390px'
    await sleep(50)
    assertShownInFull(room, 390)
    // Still true after a while: still said.
    await sleep(6000)
    expect(notice(room)).to.contain('Editing locked by Ada Lovelace-Byron.')

    await api('POST', `/v1/sessions/${sid}/unlock`, ins)
    await waitFor(() => notice(room).includes('Editing unlocked by Ada Lovelace-Byron.'), 5000, 'the unlock notice')
    expect(notice(room), 'the lock is no longer said once it is over').not.to.contain('Editing locked')
    assertShownInFull(room, 390)
    await waitFor(() => notice(room) === '', 8000, 'the unlock notice to go')
    await expect(room).to.be.accessible()
  })

  it('says "You were muted" for exactly as long as one is muted', async function () {
    this.timeout(30000)
    const sid = freshSid('notice-mute')
    await createSession(sid)
    const { room } = await mountRoom(sid, 'learner', 'lea')
    room.style.display = 'block'
    room.style.width = '390px'
    await waitFor(() => room.status === 'live', 8000, 'live')
    const ins = await token(sid, 'instructor', 'ins', 'Ada')
    await api('POST', `/v1/sessions/${sid}/participants/lea/mute`, ins)
    await waitFor(() => notice(room).includes('You were muted by Ada.'), 5000, 'the mute notice')
    await room.updateComplete
    assertShownInFull(room, 390)
    await sleep(6000)
    expect(notice(room), 'still muted, still said').to.contain('You were muted by Ada.')
    await api('POST', `/v1/sessions/${sid}/participants/lea/unmute`, ins)
    await waitFor(() => notice(room).includes('You were unmuted by Ada.') && !notice(room).includes('You were muted'), 5000, 'the unmute notice')
    await waitFor(() => notice(room) === '', 8000, 'the unmute notice to go')
  })
})
