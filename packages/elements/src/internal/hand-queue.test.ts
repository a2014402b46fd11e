import { expect, fixture } from '@open-wc/testing'
import { html } from 'lit'
import { NO_LECTURE } from '@session-kit/core'
import '../define/session-room.js'
import '../define/session-participants.js'
import '../define/session-moderation.js'
import type { SessionRoom } from '../session-room/session-room.js'
import { FakeRoomServer, fakeToken, person } from '../test-support/fake-socket.js'
import { waitFor } from '../test-support/room.js'
import { waiting } from './hand-queue.js'

const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000).toISOString()

describe('the raised hands in <session-participants> and <session-moderation> (a page-side server)', () => {
  let server: FakeRoomServer
  afterEach(() => server?.restore())

  it('says how long a hand has waited', () => {
    const now = Date.parse('2030-01-01T10:00:00Z')
    expect(waiting('2030-01-01T09:59:30Z', now)).to.equal('less than a minute')
    expect(waiting('2030-01-01T09:57:00Z', now)).to.equal('3 min')
    expect(waiting('2030-01-01T08:55:00Z', now)).to.equal('1 h 05 min')
  })

  for (const tag of ['session-participants', 'session-moderation'] as const) {
    it(`shows instructors the queue oldest first in <${tag}>, with questions, and lowers one or all; spotlights someone`, async () => {
      const lecture = {
        ...NO_LECTURE,
        hands: [
          { userId: 'grace', name: 'Grace', question: 'Is a tuple mutable?', raisedAt: minutesAgo(3) },
          { userId: 'lea', name: 'Lea', question: '', raisedAt: minutesAgo(0) },
        ],
        handCount: 2,
      }
      server = new FakeRoomServer(person('ada', 'instructor'), undefined, lecture, [person('grace', 'learner'), person('lea', 'learner')])
      const room = await fixture<SessionRoom>(html`<session-room server="http://127.0.0.1:1" session="fake" token=${fakeToken('ada', 'instructor')}>${tag === 'session-participants' ? html`<session-participants></session-participants>` : html`<session-moderation></session-moderation>`}</session-room>`)
      const el = room.querySelector(tag)!
      const root = el.shadowRoot!
      await waitFor(() => root.querySelector('[part~=hands]') !== null, 5000, 'the queue')
      const hands = () => [...root.querySelectorAll('[part~=hand]')].map((li) => li.querySelector('.who')!.textContent!.replace(/\s+/g, ' ').trim())
      expect(root.querySelector('#hands-title')!.textContent!.replace(/\s+/g, ' ')).to.equal('Raised hands (2)')
      expect(hands()).to.deep.equal(['Grace waiting 3 min “Is a tuple mutable?”', 'Lea waiting less than a minute'])
      root.querySelector<HTMLButtonElement>('[part~=hand] button')!.click()
      expect(server.sent.at(-1)).to.deep.equal({ type: 'hand', raised: false, userId: 'grace' })
      root.querySelector<HTMLButtonElement>('[part~=lower-all]')!.click()
      expect(server.sent.at(-1)).to.deep.equal({ type: 'hand', raised: false, all: true })

      const spotlight = () => [...root.querySelectorAll<HTMLButtonElement>('[part~=spotlight-button]')].find((b) => b.textContent!.includes('Grace'))!
      await waitFor(() => spotlight() !== undefined, 4000, 'a spotlight action')
      spotlight().click()
      expect(server.sent.at(-1)).to.deep.equal({ type: 'spotlight', userId: 'grace' })
      await expect(el).to.be.accessible()

      server.push({ type: 'lecture', lecture: { ...NO_LECTURE, spotlight: { userId: 'grace', name: 'Grace', by: 'Ada', at: minutesAgo(0) } } })
      await waitFor(() => spotlight().getAttribute('aria-pressed') === 'true', 2000, 'the spotlight pressed')
      expect(spotlight().textContent!.replace(/\s+/g, ' ').trim()).to.equal('End spotlight Grace')
      expect(root.querySelector('[part~=hands]')!.textContent!.replace(/\s+/g, ' ')).to.contain('No hands raised.')
    })
  }

  it('shows a learner only their own raised hand, and no queue or spotlight actions', async () => {
    server = new FakeRoomServer(person('lea', 'learner'), undefined, { ...NO_LECTURE, hands: [{ userId: 'lea', name: 'Lea', question: '', raisedAt: minutesAgo(1) }], handCount: 3 }, [person('grace', 'learner')])
    const room = await fixture<SessionRoom>(html`<session-room server="http://127.0.0.1:1" session="fake" token=${fakeToken('lea', 'learner')}><session-participants></session-participants></session-room>`)
    const root = room.querySelector('session-participants')!.shadowRoot!
    await waitFor(() => room.status === 'live' && root.querySelector('[part~=participant]') !== null, 5000, 'the list')
    expect(root.querySelector('[part~=hands]')).to.equal(null)
    expect(root.querySelectorAll('[part~=spotlight-button]').length).to.equal(0)
    const flagged = [...root.querySelectorAll('[part~=participant]')].filter((li) => li.textContent!.includes('hand raised')).map((li) => li.querySelector('.name')!.textContent)
    expect(flagged).to.deep.equal(['Lea (you)'])
  })
})
