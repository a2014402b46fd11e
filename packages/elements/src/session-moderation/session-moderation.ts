import { html, nothing } from 'lit'
import { property, state } from 'lit/decorators.js'
import { mayActOn, Permission, ROLES, type ParticipantAction, type ParticipantEntry, type Role } from '@session-kit/core'
import { BusyController } from '../internal/busy-controller.js'
import { errorMessage } from '../internal/http.js'
import { ParticipantList } from '../internal/participant-list.js'
import { handQueueStyles, participantListStyles } from '../internal/participant-list.styles.js'
import type { RoomController } from '../room-controller.js'
import { SessionElement } from '../session-element.js'
import { statusStyles } from '../shared-styles.js'
import { styles } from './session-moderation.styles.js'

/**
 * The instructor's control of the room: the participant list with presence and statistics, and
 * for each person mute / unmute, change role, hide / show and remove (with a confirmation), plus
 * mute all, unmute all, lock / unlock learner editing and unban. Every action takes effect at once
 * on open connections, and the person affected is told why. The session owner cannot be muted,
 * removed or demoted. What Mute and Hide do is said above the list, and each button is described
 * by it, before anyone presses them: a muted person can still read the code and the chat but cannot
 * type in the code, run it or post in the chat; a hidden person disappears from learners' and
 * observers' list of people and their cursor from learners' and observers' code, while instructors
 * still see them. Renders nothing for roles that cannot moderate, unless `show-denied`.
 *
 * @tag session-moderation
 * @summary Moderation panel: mute, roles, visibility, removal and the editing lock.
 *
 * @csspart stats - The statistics strip.
 * @csspart list - The list of participants.
 * @csspart participant - One participant.
 * @csspart hands - Instructors: the raised hands, oldest first, with each question and the time waiting.
 * @csspart hand - One raised hand, with its "Lower" button.
 * @csspart lower-all - Instructors: "Lower all hands".
 * @csspart spotlight-button - Instructors: "Spotlight" (show everyone this person's code) or "End spotlight".
 * @csspart actions - A participant's controls.
 * @csspart room-actions - Mute all, unmute all, lock editing.
 * @csspart help - What Mute and Hide do, above the list.
 * @csspart denied - The explanation shown to others with `show-denied`.
 *
 * @cssprop --session-color-danger - The remove button.
 * @cssprop --session-color-accent - Focus rings and the lock button.
 */
export class SessionModeration extends SessionElement {
  /** @internal Lit styles. */
  static override styles = [SessionElement.baseStyles, participantListStyles, handQueueStyles, styles, statusStyles]

  /** Explain to participants who cannot moderate why there is nothing here (default: render nothing). */
  @property({ type: Boolean, reflect: true, attribute: 'show-denied' }) showDenied = false

  @property({ reflect: true }) theme?: 'light' | 'dark'

  @state() private _confirming: string | null = null
  @state() private _actionError = ''

  readonly #list: ParticipantList = new ParticipantList(this, { actions: (p) => this.#renderActions(p) })
  readonly #busy = new BusyController(this)

  private get room(): RoomController {
    return this.#list.room
  }

  /** Reload the list from the server (debounced): those not here now, when they were last seen, bans. */
  refresh(delay = 250) {
    this.#list.refresh(delay)
  }

  get #may() {
    const s = this.room.state
    return {
      mute: Boolean(s?.can(Permission.MUTE_PARTICIPANT)),
      kick: Boolean(s?.can(Permission.KICK_PARTICIPANT)),
      manage: Boolean(s?.can(Permission.REMOVE_PARTICIPANTS)),
    }
  }

  async #act(key: string, method: string, path: string, body: unknown, done: string) {
    const client = this.room.state?.client
    if (!client) return
    this.#busy.busy = key
    this._actionError = ''
    try {
      const res = await client.api(method, path, body)
      if (!res.ok) {
        this._actionError = `That did not work: ${await errorMessage(res)}.`
      } else {
        this.#busy.announce(done)
        this.refresh(0)
      }
    } catch {
      this._actionError = 'The server could not be reached.'
    } finally {
      this.#busy.busy = ''
      // Only the removal closes its confirmation: another action may end after it was opened.
      if (key === `${this._confirming}:kick`) this._confirming = null
    }
  }

  #renderActions(p: ParticipantEntry) {
    const may = this.#may
    const me = p.userId === this.room.state?.participant?.userId
    const id = encodeURIComponent(p.userId)
    const busy = this.#busy.busy.startsWith(p.userId + ':')
    if (p.banned) {
      return may.kick
        ? html`<span part="actions" class="actions"
            ><button type="button" ?disabled=${busy} @click=${() => this.#act(`${p.userId}:unban`, 'POST', `/participants/${id}/unban`, undefined, `${p.name} may join again.`)}>
              Unban ${p.name}
            </button></span
          >`
        : nothing
    }
    if (p.owner) return html`<span part="actions" class="actions meta">Owner — cannot be muted or removed</span>`
    // What this instructor may do to this person: only the owner acts on instructors (core's rule).
    const ctx = this.room.state?.context
    const acts = (action: ParticipantAction, role?: Role) => ctx !== null && ctx !== undefined && mayActOn(ctx, { userId: p.userId, role: p.role, owner: p.owner }, action, role)
    if (p.role === 'instructor' && !acts('mute')) return html`<span part="actions" class="actions meta">Instructor — only the session owner can change this</span>`
    const roles = ROLES.filter((r: Role) => r === p.role || acts('change-role', r))
    return html`<span part="actions" class="actions">
      ${may.mute && acts('mute')
        ? html`<button
            type="button"
            title=${p.muted ? `Let ${p.name} type in the code, run it and post in the chat again` : `Stop ${p.name} typing in the code, running it and posting in the chat`}
            aria-describedby="help-mute"
            ?disabled=${busy}
            @click=${() => this.#act(`${p.userId}:mute`, 'POST', `/participants/${id}/${p.muted ? 'unmute' : 'mute'}`, undefined, p.muted ? `${p.name} is unmuted.` : `${p.name} is muted.`)}
          >
            ${p.muted ? 'Unmute' : 'Mute'}<span class="visually-hidden"> ${p.name}</span>
          </button>`
        : nothing}
      ${may.manage && roles.length > 1
        ? html`<label class="visually-hidden" for="role-${p.userId}">Role of ${p.name}</label>
            <select id="role-${p.userId}" ?disabled=${busy} @change=${(e: Event) => this.#act(`${p.userId}:role`, 'PATCH', `/participants/${id}`, { role: (e.target as HTMLSelectElement).value }, `${p.name} is now ${(e.target as HTMLSelectElement).value}.`)}>
              ${roles.map((r: Role) => html`<option value=${r} ?selected=${r === p.role}>${r[0]!.toUpperCase() + r.slice(1)}</option>`)}
            </select>`
        : nothing}
      ${may.manage && acts('hide')
        ? html`<button
              type="button"
              title=${p.hidden ? `Let learners and observers see ${p.name} again` : `Learners and observers stop seeing ${p.name} in the list of people and in the code; instructors still see them`}
              aria-describedby="help-hide"
              ?disabled=${busy}
              @click=${() => this.#act(`${p.userId}:hide`, 'PATCH', `/participants/${id}`, { hidden: !p.hidden }, p.hidden ? `${p.name} is visible to everyone.` : `${p.name} is hidden from learners and observers.`)}
            >
              ${p.hidden ? 'Show' : 'Hide'}<span class="visually-hidden"> ${p.name}</span>
            </button>`
        : nothing}
      ${may.kick && !me && acts('remove')
        ? this._confirming === p.userId
          ? html`<span class="confirm" role="group" aria-label="Confirm removal of ${p.name}">
              Remove ${p.name}?
              <button type="button" class="danger" ?disabled=${busy} @click=${() => this.#act(`${p.userId}:kick`, 'POST', `/participants/${id}/kick`, undefined, `${p.name} was removed.`)}>Remove</button>
              <button type="button" @click=${() => (this._confirming = null)}>Cancel</button>
            </span>`
          : html`<button type="button" class="danger" @click=${() => (this._confirming = p.userId)}>Remove<span class="visually-hidden"> ${p.name}</span></button>`
        : nothing}
    </span>`
  }

  protected override render(): unknown {
    const may = this.#may
    const state = this.room.state
    if (!may.mute && !may.kick && !may.manage) {
      if (!this.showDenied) return nothing
      return html`<p part="denied" class="empty">${state?.participant ? 'Only instructors can moderate this session.' : 'Connecting…'}</p>`
    }
    const locked = Boolean(state?.session?.editingLocked)
    return html`
      ${may.mute
        ? html`<div part="room-actions" class="room-actions" role="group" aria-label="Whole room">
            <button type="button" aria-describedby="help-mute" ?disabled=${this.#busy.is('all')} @click=${() => this.#act('all', 'POST', '/mute-all', undefined, 'Everyone but instructors is muted.')}>Mute all</button>
            <button type="button" ?disabled=${this.#busy.is('all')} @click=${() => this.#act('all', 'POST', '/unmute-all', undefined, 'Everyone is unmuted.')}>Unmute all</button>
            <button type="button" class="primary" aria-pressed=${String(locked)} ?disabled=${this.#busy.is('lock')} @click=${() => this.#act('lock', 'POST', locked ? '/unlock' : '/lock', undefined, locked ? 'Learners can edit again.' : 'Learner editing is locked.')}>
              ${locked ? 'Unlock learner editing' : 'Lock learner editing'}
            </button>
          </div>`
        : nothing}
      <ul part="help" class="help">
        ${may.mute
          ? html`<li id="help-mute"><strong>Mute:</strong> they can still read the code and the chat, but cannot type in the code, run it or post in the chat until unmuted. Mute all spares instructors.</li>`
          : nothing}
        ${may.manage
          ? html`<li id="help-hide"><strong>Hide:</strong> learners and observers stop seeing them in the list of people and their cursor in the code; instructors still see them, and their edits and messages still show.</li>`
          : nothing}
      </ul>
      ${this.#list.render()} ${this._actionError ? html`<p class="error" role="alert">${this._actionError}</p>` : nothing} ${this.#busy.region()}
    `
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'session-moderation': SessionModeration
  }
}
