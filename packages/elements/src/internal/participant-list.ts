import { html, nothing, type ReactiveController, type ReactiveControllerHost, type TemplateResult } from 'lit'
import { Rule, type ParticipantEntry, type ParticipantInfo, type Role } from '@session-kit/core'
import { insideRoom, RoomController, roomUnavailable } from '../room-controller.js'
import { colorIndex } from '../session-element.js'
import { initials, relativeTime } from './format.js'
import { HandQueue } from './hand-queue.js'
import { LoadController, ResponseError } from './load-controller.js'
import type { RoomClient } from './room-client.js'

const ROLE_ORDER: Record<Role, number> = { instructor: 0, learner: 1, observer: 2 }

export interface ParticipantListOptions {
  /** Controls shown beside a participant (`<session-moderation>`'s). */
  actions?: (p: ParticipantEntry) => TemplateResult | typeof nothing
}

/**
 * The participant list with presence and statistics, for the elements that show it
 * (`<session-participants>`, `<session-moderation>`). The list of everyone who ever joined is
 * loaded once per connection; who is here, their role and whether they are muted follow the room
 * live, without asking the server again.
 */
export class ParticipantList implements ReactiveController {
  /** People who first joined since the list was loaded, as the socket told of them. */
  #met = new Map<string, ParticipantEntry>()
  /** When people left, as seen on the socket since the list was loaded. */
  #leftAt = new Map<string, string>()
  readonly room: RoomController
  readonly #hands: HandQueue
  readonly #list: LoadController<ParticipantEntry[], [RoomClient]>

  constructor(
    private readonly host: ReactiveControllerHost & HTMLElement,
    private readonly opts: ParticipantListOptions = {},
  ) {
    host.addController(this)
    // Who is here now, their role and mute come with the room's state; the socket's events add
    // those who were not in the list and when someone left.
    this.room = new RoomController(host, {
      events: {
        joined: (e) => this.#met.set(e.participant.userId, newcomer(e.participant)),
        left: (e) => this.#leftAt.set(e.userId, new Date().toISOString()),
      },
    })
    this.#hands = new HandQueue(host, this.room)
    this.#list = new LoadController(host, {
      args: () => (this.room.state?.status === 'live' ? [this.room.state.client] : null),
      request: ([client], signal) => client.api('GET', '/participants', undefined, signal),
      parse: (json) => (json as { participants: ParticipantEntry[] }).participants,
      failure: (e) => (e instanceof ResponseError ? `The list could not be loaded: ${e.message}.` : 'The server could not be reached; the list may be out of date.'),
      onLoad: () => this.#leftAt.clear(),
    })
  }

  hostConnected() {}

  /** Reload the list from the server (debounced): those not here now, when they were last seen, bans. */
  refresh(delay = 250) {
    void this.#list.reload(delay)
  }

  /** Everyone, sorted: online first, then by role and name; the room's live presence wins over the last load. */
  get people(): ParticipantEntry[] {
    const state = this.room.state
    const live = state?.status === 'live'
    const here = new Map((live ? state.participants : []).map((p) => [p.userId, p]))
    const list = this.#list.value ?? []
    const listed = new Set(list.map((p) => p.userId))
    const known = [...list, ...[...this.#met.values()].filter((m) => !listed.has(m.userId))]
    const people = known.map((p): ParticipantEntry => {
      const now = here.get(p.userId)
      here.delete(p.userId)
      if (now && !p.banned) return { ...p, ...liveFields(now), online: true }
      return { ...p, online: live ? false : p.online, lastSeenAt: this.#leftAt.get(p.userId) ?? p.lastSeenAt }
    })
    // Here now but not yet known (in the room's state before its `joined` event was seen).
    for (const now of here.values()) people.push(newcomer(now))
    return people.sort((a, b) => Number(b.online) - Number(a.online) || ROLE_ORDER[a.role] - ROLE_ORDER[b.role] || a.name.localeCompare(b.name))
  }

  #renderStats(people: ParticipantEntry[]) {
    const members = people.filter((p) => !p.banned)
    const count = (role: Role) => members.filter((p) => p.role === role).length
    const plural = (n: number, word: string) => `${word}${n === 1 ? '' : 's'}`
    return html`<ul part="stats" class="stats" aria-label="Statistics">
      <li><strong>${members.filter((p) => p.online).length}</strong> of <strong>${members.length}</strong> online</li>
      <li><strong>${count('instructor')}</strong> ${plural(count('instructor'), 'instructor')}</li>
      <li><strong>${count('learner')}</strong> ${plural(count('learner'), 'learner')}</li>
      <li><strong>${count('observer')}</strong> ${plural(count('observer'), 'observer')}</li>
      <li><strong>${members.filter((p) => p.muted).length}</strong> muted</li>
    </ul>`
  }

  /** Instructors: spotlight someone here now (or end their spotlight). */
  #renderSpotlight(p: ParticipantEntry, me: boolean) {
    const st = this.room.state
    if (!st?.can(Rule.LEAD_LECTURE) || !p.online || me) return nothing
    const on = st.lecture.spotlight?.userId === p.userId
    return html`<button type="button" part="spotlight-button" aria-pressed=${String(on)} title=${on ? 'Stop showing their code to everyone' : 'Show everyone their code around their cursor'} @click=${() => this.room.lead({ type: 'spotlight', userId: on ? null : p.userId })}>
      ${on ? 'End spotlight' : 'Spotlight'}<span class="visually-hidden"> ${p.name}</span>
    </button>`
  }

  #renderPerson(p: ParticipantEntry) {
    const me = p.userId === this.room.state?.participant?.userId
    const hand = this.room.state?.lecture.hands.some((h) => h.userId === p.userId)
    const when = p.online ? 'online now' : p.banned ? 'removed from the session' : p.lastSeenAt ? `last seen ${relativeTime(p.lastSeenAt)}` : 'has not joined yet'
    return html`<li part="participant" class="person ${p.online ? 'online' : ''} ${p.banned ? 'banned' : ''}">
      <span part="avatar" class="avatar c${colorIndex(p.color)}" aria-hidden="true">
        ${p.avatar ? html`<img src=${p.avatar} alt="" />` : initials(p.name)}<span class="presence-dot"></span>
      </span>
      <span class="who">
        <span class="name">${p.name}${me ? ' (you)' : ''}</span>
        <span class="meta">${when}</span>
      </span>
      <span part="badge" class="badge ${p.role}">${p.role}</span>
      ${p.owner ? html`<span class="flag">owner</span>` : nothing} ${p.muted ? html`<span class="flag">muted</span>` : nothing}
      ${p.hidden ? html`<span class="flag">hidden</span>` : nothing} ${hand ? html`<span class="flag">hand raised</span>` : nothing}
      ${this.#renderSpotlight(p, me)} ${this.opts.actions ? this.opts.actions(p) : nothing}
    </li>`
  }

  /** The statistics and the list, or what stands in their place (not in a room, connecting, loading, nobody). */
  render() {
    // The raised hands come with the room, not with the list: shown while it loads or fails.
    return html`${this.#hands.render()} ${this.#renderList()}`
  }

  #renderList() {
    const { error, value } = this.#list
    if (error && !value) return html`<p class="error" role="alert">${error}</p>`
    const state = this.room.state
    if (!state && !insideRoom(this.host)) return html`<p class="empty">Not in a room.</p>`
    if (!state || state.status === 'error') return html`<p class="empty" role="status">${roomUnavailable(state)}</p>`
    if (!value) return html`<p class="empty" role="status">${roomUnavailable(state) ?? 'Loading participants…'}</p>`
    const people = this.people
    if (!people.length) return html`<p class="empty">Nobody has joined yet.</p>`
    return html`${this.#renderStats(people)}
      <ul part="list" class="list" aria-label="Participants">
        ${people.map((p) => this.#renderPerson(p))}
      </ul>
      ${error ? html`<p class="error" role="alert">${error}</p>` : nothing}`
  }
}

/** What the room says of someone here now. */
function liveFields(p: ParticipantInfo) {
  return { userId: p.userId, name: p.name, role: p.role, color: p.color, avatar: p.avatar ?? null, owner: p.owner, muted: p.muted, hidden: p.hidden ?? false }
}

/** Someone the list did not hold, as the room tells of them. */
function newcomer(p: ParticipantInfo): ParticipantEntry {
  return { ...liveFields(p), tokenRole: p.role, online: true, lastSeenAt: null, banned: false }
}
