import { expect, fixture } from '@open-wc/testing'
import { sendKeys } from '@web/test-runner-commands'
import { html } from 'lit'
import type { Role } from '@session-kit/core'
import '../define/session-room.js'
import type { SessionRoom } from './session-room.js'
import { api, freshSid, testServer, token, waitFor } from '../test-support/room.js'

const ROLES: Role[] = ['instructor', 'learner', 'observer']

/** A session made by the host, under a recording policy. */
async function session(sid: string, recordingPolicy: 'notice' | 'consent') {
  const { url, apiKey } = await testServer()
  const res = await fetch(`${url}/v1/sessions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ id: sid, title: `Recorded ${sid}`, ownerId: 'ins', files: { 'main.js': '' }, recordingPolicy }),
  })
  expect(res.status).to.equal(201)
}

/** A room of the page, in a theme; live. */
async function room(sid: string, role: Role, user: string, theme: 'light' | 'dark') {
  const { url } = await testServer()
  const el = await fixture<SessionRoom>(html`<session-room server=${url} session=${sid} token=${await token(sid, role, user, `Pat ${user}`)} theme=${theme}></session-room>`)
  await waitFor(() => el.status === 'live', 8000, `${user} live`)
  return el
}

const part = (el: SessionRoom, name: string) => el.shadowRoot!.querySelector<HTMLElement>(`[part~=${name}]`)
const said = (el: SessionRoom) => el.shadowRoot!.querySelector('[role=status][aria-live=polite]')!.textContent ?? ''
const pressed = (el: SessionRoom, name: string) => part(el, name)?.getAttribute('aria-pressed')

async function startRecording(sid: string) {
  const res = await api('POST', `/v1/sessions/${sid}/recordings`, await token(sid, 'instructor', 'ins', 'Ada'), { title: 'Lesson' })
  expect(res.status).to.equal(201)
  return ((await res.json()) as { id: string }).id
}

describe('<session-room> recording notice', () => {
  for (const theme of ['light', 'dark'] as const) {
    it(`notice: everyone present and every joiner sees "This session is being recorded" and hears it, in each role (${theme})`, async function () {
      this.timeout(40000)
      const sid = freshSid(`notice-${theme}`)
      await session(sid, 'notice')
      const present = await Promise.all(ROLES.map((role) => room(sid, role, `${role}-here`, theme)))
      for (const el of present) expect(part(el, 'recording')).to.equal(null, 'no notice before a recording')
      await startRecording(sid)
      for (const el of present) {
        await waitFor(() => part(el, 'recording')?.textContent === 'This session is being recorded', 5000, 'the notice')
        await waitFor(() => said(el).includes('This session is being recorded.'), 5000, 'said to screen readers')
        expect(said(el)).to.contain('Ada started recording this session.')
        expect(part(el, 'consent'), 'nobody is asked under notice').to.equal(null)
        await expect(el).to.be.accessible()
      }
      for (const role of ROLES) {
        const late = await room(sid, role, `${role}-late`, theme)
        await late.updateComplete
        expect(part(late, 'recording')?.textContent, 'shown in the first render after the welcome').to.equal('This session is being recorded')
        await waitFor(() => said(late).includes('This session is being recorded.'), 5000, `a late ${role} hears it`)
        await expect(late).to.be.accessible()
      }
      // Persistent: still there after a while, and still there with the status bar hidden.
      await new Promise((r) => setTimeout(r, 1500))
      expect(part(present[1]!, 'recording')?.textContent).to.equal('This session is being recorded')
      present[1]!.hideStatus = true
      await present[1]!.updateComplete
      expect(part(present[1]!, 'status')).to.equal(null)
      expect(part(present[1]!, 'recording')?.textContent).to.equal('This session is being recorded')
      await expect(present[1]!).to.be.accessible()
    })

    it(`consent: each role is asked, chooses with the keyboard and sees its choice; the server keeps it (${theme})`, async function () {
      this.timeout(40000)
      const sid = freshSid(`consent-${theme}`)
      await session(sid, 'consent')
      const rooms = await Promise.all(ROLES.map((role) => room(sid, role, `${role}-c`, theme)))
      expect(part(rooms[0]!, 'consent'), 'asked only while recorded').to.equal(null)
      const rec = await startRecording(sid)
      for (const [i, el] of rooms.entries()) {
        const role = ROLES[i]!
        await waitFor(() => part(el, 'consent') !== null, 5000, `${role} asked`)
        expect(part(el, 'consent-choice')?.textContent).to.equal('Record you by name?')
        expect(pressed(el, 'consent-allow')).to.equal('false')
        expect(pressed(el, 'consent-decline')).to.equal('false')
        await waitFor(() => said(el).includes('You choose whether you are recorded by name'), 5000, `${role} hears the question`)
        expect(said(el)).to.contain('This session is being recorded.')
        await expect(el).to.be.accessible()

        // Allow, with the keyboard.
        part(el, 'consent-allow')!.focus()
        await sendKeys({ press: 'Enter' })
        await waitFor(() => pressed(el, 'consent-allow') === 'true', 5000, `${role} allowed`)
        expect(part(el, 'consent-choice')?.textContent).to.equal('You are recorded by name.')
        // (Said once the server has the choice, which may be a moment after the button shows it.)
        await waitFor(() => said(el).includes('You allowed recording'), 5000, `${role} hears the choice`)
        await expect(el).to.be.accessible()
        // Changed their mind: Tab to "Don't record me", Space.
        await sendKeys({ press: 'Tab' })
        expect(el.shadowRoot!.activeElement).to.equal(part(el, 'consent-decline'))
        await sendKeys({ press: 'Space' })
        await waitFor(() => pressed(el, 'consent-decline') === 'true', 5000, `${role} declined`)
        expect(pressed(el, 'consent-allow')).to.equal('false')
        expect(part(el, 'consent-choice')?.textContent).to.equal('You are not recorded.')
        await waitFor(() => said(el).includes('your chat and name are left out'), 5000, `${role} hears the choice`)
        await expect(el).to.be.accessible()
      }
      // The learner allows it again; the server lists who consented (everyone did at a moment of it).
      part(rooms[1]!, 'consent-allow')!.click()
      await waitFor(() => pressed(rooms[1]!, 'consent-allow') === 'true', 5000, 'allowed again')
      const meta = (await (await api('GET', `/v1/sessions/${sid}/recordings/${rec}`, await token(sid, 'instructor', 'ins', 'Ada'))).json()) as { consented: { userId: string }[] }
      expect(meta.consented.map((p) => p.userId)).to.deep.equal(['instructor-c', 'learner-c', 'observer-c'])
      // A second page of the same person follows the choice, and one joining now is welcomed with it.
      const again = await room(sid, 'learner', 'learner-c', theme)
      await waitFor(() => pressed(again, 'consent-allow') === 'true', 5000, 'the standing choice')
      await waitFor(() => said(again).includes('You are recorded by name. You can change this at any time'), 5000, 'said on joining')
      part(again, 'consent-decline')!.click()
      await waitFor(() => pressed(rooms[1]!, 'consent-decline') === 'true', 5000, 'the other page of hers follows')
      await expect(again).to.be.accessible()
    })
  }
})
