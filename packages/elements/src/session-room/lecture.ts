import { html, nothing, type ReactiveControllerHost } from 'lit'
import { Rule, type ClientEvent, type LectureChange, type LectureState, type ServerEvent } from '@session-kit/core'
import { count } from '../internal/format.js'
import type { RoomClient, ServerEventMessage } from '../internal/room-client.js'
import type { RoomState } from '../room-state.js'
import { lectureStyles } from './lecture.styles.js'
import { HandControl } from './raise-hand.js'
import { SpotlightPane } from './spotlight-pane.js'

type Host = ReactiveControllerHost & HTMLElement & { renderRoot: HTMLElement | DocumentFragment }
type LectureEvent = Extract<ClientEvent, { type: 'follow' | 'hand' | 'spotlight' }>

/** How long "try again" messages stay in the bar at least. */
const MESSAGE_MS = 6000

/**
 * What a change is, said once to this participant (instructors hear of every hand; others of
 * their own hand only), or '' when it is not theirs to hear.
 */
export function news(change: LectureChange, me: string | undefined, leads: boolean, before: LectureState): string {
  switch (change.kind) {
    case 'follow-started':
      return change.userId === me ? 'Everyone is following you.' : `You are following ${change.name}.`
    case 'follow-stopped':
      return change.userId === me ? 'Nobody is following you now.' : `${change.name} stopped leading: you are no longer following.`
    case 'hand-raised':
      return change.userId === me ? 'Your hand is raised.' : leads ? `${change.name} raised a hand.` : ''
    case 'hand-lowered':
      // `by`: the instructor who lowered someone else's hand.
      if (change.userId === me) return change.by ? `${change.by} lowered your hand.` : 'Your hand is lowered.'
      return leads ? `${change.name}'s hand is lowered.` : ''
    case 'hands-cleared':
      return leads || before.hands.some((h) => h.userId === me) ? 'All hands were lowered.' : ''
    case 'spotlight-started':
      if (change.sessionId) return `Spotlight on ${change.name}'s room.`
      return change.userId === me ? 'Spotlight on your code: everyone sees it.' : `Spotlight on ${change.name}.`
    case 'spotlight-stopped':
      return 'Spotlight ended.'
  }
}

/**
 * Lecture mode in `<session-room>` (loaded once the room is live): "Raise hand" / "Lower hand",
 * for instructors "Follow me" and how many hands are up, the spotlight pane, rate-limit messages,
 * and one polite announcement per change.
 */
export class RoomLecture {
  #message = ''
  #timer?: ReturnType<typeof setTimeout>
  #before: LectureState
  readonly #hand: HandControl
  readonly #pane: SpotlightPane

  constructor(
    private readonly host: Host,
    readonly client: RoomClient,
    private readonly announce: (text: string) => void,
  ) {
    this.#before = client.lecture
    this.#hand = new HandControl(host, (raised, question) => this.#send({ type: 'hand', raised, ...(raised && question?.trim() ? { question: question.trim() } : {}) }))
    this.#pane = new SpotlightPane(host, client)
    client.events.addEventListener('lecture', this.#onLecture)
    client.events.addEventListener('rate_limited', this.#onLimited)
    const root = host.renderRoot
    if (root instanceof ShadowRoot && lectureStyles.styleSheet) root.adoptedStyleSheets = [...root.adoptedStyleSheets, lectureStyles.styleSheet]
  }

  stop() {
    clearTimeout(this.#timer)
    this.client.events.removeEventListener('lecture', this.#onLecture)
    this.client.events.removeEventListener('rate_limited', this.#onLimited)
    this.#pane.stop()
  }

  #onLecture = (e: Event) => {
    const { lecture, change } = (e as ServerEventMessage<Extract<ServerEvent, { type: 'lecture' }>>).detail
    const me = this.client.participant
    const leads = me?.role === 'instructor'
    const text = change ? news(change, me?.userId, leads, this.#before) : ''
    this.#before = lecture
    if (text) this.announce(text)
  }

  #onLimited = (e: Event) => {
    const event = (e as ServerEventMessage<Extract<ServerEvent, { type: 'rate_limited' }>>).detail
    if (event.what !== 'hand') return
    const seconds = Math.ceil(event.retryAfterMs / 1000)
    this.#say(`Too many hand changes: try again in ${count(seconds, 'second')}.`, Math.max(MESSAGE_MS, event.retryAfterMs))
  }

  #say(text: string, ms = MESSAGE_MS) {
    this.#message = text
    this.announce(text)
    clearTimeout(this.#timer)
    this.#timer = setTimeout(() => {
      this.#message = ''
      this.host.requestUpdate()
    }, ms)
    this.host.requestUpdate()
  }

  #send(event: LectureEvent): boolean {
    const sent = this.client.lead(event)
    if (!sent) this.#say('Not connected: try again once the room is live.')
    return sent
  }

  /** The controls in the room bar. */
  controls(st: RoomState) {
    const me = st.participant?.userId
    const { follow, hands, handCount } = st.lecture
    const leads = st.can(Rule.LEAD_LECTURE)
    if (!leads && !st.can(Rule.RAISE_HAND)) return nothing
    const leading = follow?.userId === me
    return html`<span part="lecture" class="lecture" role="group" aria-label="Lecture">
      ${leads
        ? html`<button type="button" part="follow-button" aria-pressed=${String(leading)} title="Everyone's editor shows your file and keeps your cursor in view" @click=${() => this.#send({ type: 'follow', on: !leading })}>
              Follow me
            </button>
            <span part="hand-count" class="hand-count">${handCount ? `${count(handCount, 'hand')} raised` : 'No hands raised'}</span>`
        : this.#hand.render(hands.find((h) => h.userId === me))}
      ${this.#message ? html`<span part="lecture-message" class="lecture-message">${this.#message}</span>` : nothing}
    </span>`
  }

  /** The spotlight pane above the room's content, while there is a spotlight. */
  pane(st: RoomState) {
    const spot = st.lecture.spotlight
    this.#pane.sync(spot, st.source)
    return spot ? this.#pane.render(spot, st.can(Rule.LEAD_LECTURE) ? () => this.#send({ type: 'spotlight', userId: null }) : null) : nothing
  }
}
