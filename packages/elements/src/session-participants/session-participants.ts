import { css, html, nothing, type TemplateResult } from 'lit'
import { property, state } from 'lit/decorators.js'
import type { ParticipantInfo, Role } from '@session-kit/core'
import { colorIndex, participantColorClasses } from '../internal/colors.js'
import { initials, relativeTime } from '../internal/format.js'
import { insideRoom, RoomController, roomUnavailable } from '../room-controller.js'
import { SessionElement, statusStyles } from '../session-element.js'
import { errorMessage } from '../internal/http.js'

/** A participant as `GET …/participants` returns them. */
export interface ParticipantEntry {
  userId: string
  name: string
  role: Role
  tokenRole: Role
  color: string
  avatar: string | null
  owner: boolean
  online: boolean
  lastSeenAt: string | null
  muted: boolean
  hidden: boolean
  banned: boolean
}

const ROLE_ORDER: Record<Role, number> = { instructor: 0, learner: 1, observer: 2 }

export const participantStyles = css`
  :host {
    display: block;
    font-size: 0.9rem;
  }
  .stats {
    display: flex;
    flex-wrap: wrap;
    gap: 0.25rem 0.9rem;
    margin: 0 0 0.5rem;
    padding: 0.35rem 0.6rem;
    background: var(--_surface);
    border: 1px solid var(--_border);
    border-radius: var(--_radius);
    font-size: 0.8rem;
    list-style: none;
  }
  .stats strong {
    font-variant-numeric: tabular-nums;
  }
  .list {
    list-style: none;
    margin: 0;
    padding: 0;
    display: grid;
    gap: 0.25rem;
  }
  .person {
    display: flex;
    align-items: center;
    gap: 0.5rem;
    padding: 0.3rem 0.4rem;
    border-radius: 6px;
    flex-wrap: wrap;
  }
  .person.banned {
    opacity: 0.75;
  }
  .avatar {
    position: relative;
    flex: none;
    display: grid;
    place-items: center;
    inline-size: 2rem;
    block-size: 2rem;
    border-radius: 50%;
    background: var(--_c, var(--_accent));
    color: #fff;
    font-size: 0.75rem;
    font-weight: 600;
  }
  .avatar img {
    inline-size: 100%;
    block-size: 100%;
    border-radius: 50%;
    object-fit: cover;
  }
  .presence-dot {
    position: absolute;
    inset-block-end: -1px;
    inset-inline-end: -1px;
    inline-size: 0.7rem;
    block-size: 0.7rem;
    border-radius: 50%;
    border: 2px solid var(--_bg);
    background: var(--_muted);
  }
  .online .presence-dot {
    background: var(--_ok);
  }
  .who {
    flex: 1;
    min-width: 8rem;
    display: grid;
  }
  .name {
    font-weight: 600;
  }
  .meta {
    color: var(--_muted);
    font-size: 0.78rem;
  }
  .badge {
    font-size: 0.7rem;
    padding: 0.05rem 0.45rem;
    border-radius: 999px;
    border: 1px solid currentColor;
    text-transform: capitalize;
  }
  .badge.instructor {
    color: var(--session-color-instructor, light-dark(#6d28d9, #c4b5fd));
  }
  .badge.learner {
    color: var(--session-color-learner, light-dark(#0f766e, #5eead4));
  }
  .badge.observer {
    color: var(--_muted);
  }
  .flag {
    font-size: 0.72rem;
    color: var(--_warning);
  }
  ${participantColorClasses}
  .empty,
  .error {
    margin: 0.5rem 0;
  }
`

/**
 * Who is in the session: presence (online now, last seen), role badges, avatars or initials, and
 * a statistics strip (online / total, per role, muted). Learners and observers do not see
 * participants an instructor has hidden. The list of everyone who ever joined is fetched once per
 * connection; who is here, their role and whether they are muted follow the room live, without
 * asking the server again.
 *
 * @tag session-participants
 * @summary The participant list with presence.
 *
 * @csspart stats - The statistics strip.
 * @csspart list - The list of participants.
 * @csspart participant - One participant.
 * @csspart avatar - A participant's avatar or initials.
 * @csspart badge - A role badge.
 *
 * @cssprop --session-color-instructor - Colour of the instructor badge.
 * @cssprop --session-color-learner - Colour of the learner badge.
 * @cssprop --session-color-success - The "online" dot.
 */
export class SessionParticipants extends SessionElement {
  /** @internal Lit styles. */
  static override styles = [SessionElement.baseStyles, participantStyles, statusStyles]

  @property({ reflect: true }) theme?: 'light' | 'dark'

  @state() protected _list: ParticipantEntry[] | null = null
  @state() protected _error = ''

  #timer?: ReturnType<typeof setTimeout>
  /** People who first joined since the list was fetched, as the socket told of them. */
  #met = new Map<string, ParticipantEntry>()
  /** When people left, as seen on the socket since the list was fetched. */
  #leftAt = new Map<string, string>()
  protected readonly room = new RoomController(this, {
    // Who is here now, their role and mute come with the room's state; the socket's events add
    // those who were not in the list and when someone left.
    events: {
      joined: (e) => this.#met.set(e.participant.userId, newcomer(e.participant)),
      left: (e) => this.#leftAt.set(e.userId, new Date().toISOString()),
    },
    onChange: (state, previous) => {
      if (state?.status === 'live' && previous?.status !== 'live') this.refresh(0)
    },
  })

  /** Reload the list from the server (debounced): those not here now, when they were last seen, bans. */
  refresh(delay = 250) {
    clearTimeout(this.#timer)
    this.#timer = setTimeout(() => void this.#load(), delay)
  }

  override disconnectedCallback() {
    super.disconnectedCallback()
    clearTimeout(this.#timer)
  }

  async #load() {
    const state = this.room.state
    if (!state || state.status !== 'live') return
    try {
      const res = await state.client.api('GET', '/participants')
      if (!res.ok) {
        this._error = `The list could not be loaded: ${await errorMessage(res)}.`
        return
      }
      this._list = ((await res.json()) as { participants: ParticipantEntry[] }).participants
      this.#leftAt.clear()
      this._error = ''
    } catch {
      this._error = 'The server could not be reached; the list may be out of date.'
    }
  }

  /** Everyone, sorted: online first, then by role and name; the room's live presence wins over the last fetch. */
  protected get people(): ParticipantEntry[] {
    const state = this.room.state
    const live = state?.status === 'live'
    const here = new Map((live ? state.participants : []).map((p) => [p.userId, p]))
    const listed = new Set((this._list ?? []).map((p) => p.userId))
    const known = [...(this._list ?? []), ...[...this.#met.values()].filter((m) => !listed.has(m.userId))]
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

  protected renderStats(people: ParticipantEntry[]) {
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

  /** Controls shown beside a participant (none here; `<session-moderation>` adds them). */
  protected renderActions(_p: ParticipantEntry): TemplateResult | typeof nothing {
    return nothing
  }

  protected renderPerson(p: ParticipantEntry) {
    const me = p.userId === this.room.state?.participant?.userId
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
      ${p.hidden ? html`<span class="flag">hidden</span>` : nothing}
      ${this.renderActions(p)}
    </li>`
  }

  protected renderList() {
    if (this._error && !this._list) return html`<p class="error" role="alert">${this._error}</p>`
    const state = this.room.state
    if (!state && !insideRoom(this)) return html`<p class="empty">Not in a room.</p>`
    if (!state || state.status === 'error') return html`<p class="empty" role="status">${roomUnavailable(state)}</p>`
    if (this._list === null) return html`<p class="empty" role="status">${roomUnavailable(state) ?? 'Loading participants…'}</p>`
    const people = this.people
    if (!people.length) return html`<p class="empty">Nobody has joined yet.</p>`
    return html`${this.renderStats(people)}
      <ul part="list" class="list" aria-label="Participants">
        ${people.map((p) => this.renderPerson(p))}
      </ul>
      ${this._error ? html`<p class="error" role="alert">${this._error}</p>` : nothing}`
  }

  protected override render(): unknown {
    return this.renderList()
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

declare global {
  interface HTMLElementTagNameMap {
    'session-participants': SessionParticipants
  }
}
