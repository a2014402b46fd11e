import { html, nothing } from 'lit'
import { property, state } from 'lit/decorators.js'
import { Permission, ROLE_RANK, ROLES, type BulkInvitationResult, type InvitationEntry, type Role } from '@session-kit/core'
import { relativeTime } from '../internal/format.js'
import { BusyController } from '../internal/busy-controller.js'
import { errorMessage } from '../internal/http.js'
import { LoadController } from '../internal/load-controller.js'
import type { RoomClient } from '../internal/room-client.js'
import { RoomController } from '../room-controller.js'
import { SessionElement } from '../session-element.js'
import { formStyles, listStyles, statusStyles } from '../shared-styles.js'
import { styles } from './session-invitations.styles.js'

/** An invitation as the element lists it (its link while just created or resent): the contract lives in core. */
export type { InvitationEntry } from '@session-kit/core'

type BulkResult = Omit<BulkInvitationResult, 'invitation'>

const RESULT_WORDS: Record<BulkResult['result'], string> = {
  created: 'invited',
  invalid: 'not a valid address',
  already_invited: 'already invited',
  banned: 'not invited: removed from this session (unban them first)',
  rate_limited: 'not sent: over the invitation limit',
}

/** Copy text: the Clipboard API, or a hidden text area and `execCommand` where it is unavailable. */
async function copyText(text: string, host: HTMLElement): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text)
    return true
  } catch {
    const area = document.createElement('textarea')
    area.value = text
    area.setAttribute('readonly', '')
    area.className = 'visually-hidden'
    host.shadowRoot!.append(area)
    area.select()
    let ok = false
    try {
      ok = document.execCommand('copy')
    } catch {
      ok = false
    }
    area.remove()
    return ok
  }
}

/**
 * Invite people by email, each with a role and an expiry, and manage the invitations: status
 * badges, relative expiry, resend, revoke (with a confirmation) and copy the link. Several
 * addresses can be pasted at once. Updates live when an invitee accepts. Renders nothing for roles
 * without INVITE_PARTICIPANTS, unless `show-denied`. Needs no code editor: a page with only this
 * element never loads CodeMirror or Automerge.
 *
 * @tag session-invitations
 * @summary Email invitations with roles, expiry, statuses, resend, revoke and copy link.
 *
 * @csspart form - The invitation form.
 * @csspart results - What happened to each address of the last submission.
 * @csspart list - The invitations.
 * @csspart invitation - One invitation.
 * @csspart status - A status badge (also `status-pending`, `status-accepted`, …).
 * @csspart denied - The explanation shown with `show-denied`.
 *
 * @cssprop --session-color-accent - The Invite button.
 * @cssprop --session-color-success - The "accepted" badge.
 * @cssprop --session-color-danger - The Revoke button.
 */
export class SessionInvitations extends SessionElement {
  /** @internal Lit styles. */
  static override styles = [SessionElement.baseStyles, formStyles, styles, statusStyles, listStyles]

  /** Explain to participants who cannot invite why there is nothing here (default: render nothing). */
  @property({ type: Boolean, reflect: true, attribute: 'show-denied' }) showDenied = false

  /** Hours an invitation lasts unless changed in the form (1–720). */
  @property({ type: Number, attribute: 'default-hours' }) defaultHours = 72

  @property({ reflect: true }) theme?: 'light' | 'dark'

  @state() private _error = ''
  @state() private _formError = ''
  @state() private _results: BulkResult[] = []
  @state() private _confirming: string | null = null

  /** Links seen in this page (creation or resend): the server keeps only hashes of tokens. */
  #links = new Map<string, string>()
  #room = new RoomController(this, { events: { invitation: () => void this.#list.reload(200) } })
  #list = new LoadController<InvitationEntry[], [RoomClient]>(this, {
    args: () => (this.#room.state?.status === 'live' && this.#may ? [this.#room.state.client] : null),
    request: ([client], signal) => client.api('GET', '/invitations', undefined, signal),
    parse: (json) => (json as { invitations: InvitationEntry[] }).invitations,
    failure: (e) => `The invitations could not be loaded: ${e.message}`,
    // A list that loads again says nothing more of what went wrong before.
    onLoad: () => (this._error = ''),
  })
  #busy = new BusyController(this)

  get #may(): boolean {
    return Boolean(this.#room.state?.can(Permission.INVITE_PARTICIPANTS))
  }

  async #submit(e: Event) {
    e.preventDefault()
    const form = e.target as HTMLFormElement
    const data = new FormData(form)
    const emails = String(data.get('emails') ?? '').trim()
    const role = String(data.get('role')) as Role
    // An empty field means the default, as the placeholder says.
    const typed = String(data.get('hours') ?? '').trim()
    const hours = typed === '' ? this.defaultHours : Number(typed)
    this._formError = ''
    this._results = []
    if (!emails) {
      this._formError = 'Enter at least one email address.'
      return
    }
    if (!Number.isInteger(hours) || hours < 1 || hours > 720) {
      this._formError = 'An invitation lasts between 1 and 720 hours.'
      return
    }
    const several = /[\s,;]/.test(emails)
    this.#busy.busy = 'form'
    try {
      const res = await this.#room.state!.client.api('POST', '/invitations', several ? { emails, role, expiresInHours: hours } : { email: emails, role, expiresInHours: hours })
      if (!res.ok && res.status !== 200) {
        this._formError = await errorMessage(res)
        return
      }
      const body = (await res.json()) as { results?: (BulkResult & { invitation?: InvitationEntry })[] } & InvitationEntry
      const created = several ? (body.results ?? []).flatMap((r) => (r.invitation ? [r.invitation] : [])) : [body]
      for (const inv of created) if (inv.link) this.#links.set(inv.id, inv.link)
      this._results = several ? (body.results ?? []) : [{ email: body.email, result: 'created' }]
      this.#busy.announce(`${created.length} invitation${created.length === 1 ? '' : 's'} sent.`)
      // Only the addresses go: the role and the expiry usually stay the same for the next ones.
      if (created.length) (form.elements.namedItem('emails') as HTMLTextAreaElement).value = ''
      await this.#list.reload()
    } catch {
      this._formError = 'The server could not be reached; nothing was sent.'
    } finally {
      this.#busy.busy = ''
    }
  }

  async #resend(inv: InvitationEntry, notify: boolean) {
    this.#busy.busy = inv.id
    try {
      const res = await this.#room.state!.client.api('POST', `/invitations/${inv.id}/resend`, { notify })
      if (!res.ok) {
        this._error = await errorMessage(res)
        return null
      }
      const fresh = (await res.json()) as InvitationEntry
      if (fresh.link) this.#links.set(inv.id, fresh.link)
      this.#busy.announce(notify ? `The invitation to ${inv.email} was sent again; the old link no longer works.` : `A new link for ${inv.email} is ready; the old one no longer works.`)
      await this.#list.reload()
      return fresh
    } finally {
      this.#busy.busy = ''
    }
  }

  async #revoke(inv: InvitationEntry) {
    this.#busy.busy = inv.id
    try {
      const res = await this.#room.state!.client.api('DELETE', `/invitations/${inv.id}`)
      if (!res.ok) this._error = await errorMessage(res)
      else this.#busy.announce(`The invitation to ${inv.email} was revoked.`)
      await this.#list.reload()
    } finally {
      this.#busy.busy = ''
      this._confirming = null
    }
  }

  /** Copy an invitation's link; one not seen on this page is replaced by a fresh link first. */
  async #copy(inv: InvitationEntry) {
    let link = this.#links.get(inv.id)
    if (!link) link = (await this.#resend(inv, false))?.link
    if (!link) return
    this.#busy.announce((await copyText(link, this)) ? `Link for ${inv.email} copied.` : `Copying was blocked; the link is ${link}`)
  }

  #expiry(inv: InvitationEntry) {
    if (inv.status === 'accepted') return 'accepted'
    if (inv.status === 'declined') return 'declined'
    if (inv.status === 'revoked') return 'revoked'
    return inv.status === 'expired' ? `expired ${relativeTime(inv.expiresAt)}` : `expires ${relativeTime(inv.expiresAt)}`
  }

  protected override render() {
    const state = this.#room.state
    if (!this.#may) {
      if (!this.showDenied) return nothing
      return html`<p part="denied" class="empty">${state?.participant ? 'Only instructors can invite people to this session.' : 'Connecting…'}</p>`
    }
    const myRank = ROLE_RANK[state!.participant!.role]
    const list = this.#list
    const error = this._error || list.error
    return html`
      <form part="form" @submit=${this.#submit} novalidate>
        <label class="emails"
          >Email addresses
          <textarea name="emails" rows="1" placeholder="ada@example.edu, grace@example.edu" autocomplete="off" aria-describedby="hint"></textarea>
        </label>
        <label
          >Role
          <select name="role">
            ${ROLES.filter((r) => ROLE_RANK[r] <= myRank).map((r) => html`<option value=${r} ?selected=${r === 'learner'}>${r[0]!.toUpperCase() + r.slice(1)}</option>`)}
          </select>
        </label>
        <label>Expires after (hours) <input name="hours" type="number" min="1" max="720" step="1" value=${this.defaultHours} placeholder=${this.defaultHours} /></label>
        <button class="primary" type="submit" ?disabled=${this.#busy.is('form')}>${this.#busy.is('form') ? 'Inviting…' : 'Invite'}</button>
        <p id="hint" class="hint">Paste several addresses separated by commas, spaces or new lines: each gets its own link by email.</p>
        ${this._formError ? html`<p class="hint error" role="alert">${this._formError}</p>` : nothing}
      </form>
      ${this._results.length
        ? html`<ul part="results" class="results" aria-label="Result of the last invitation">
            ${this._results.map((r) => html`<li class=${r.result === 'created' ? '' : 'bad'}>${r.email}: ${RESULT_WORDS[r.result]}</li>`)}
          </ul>`
        : nothing}
      ${error ? html`<p class="error" role="alert">${error}</p>` : nothing}
      ${list.status === 'idle' || list.status === 'loading'
        ? html`<p class="empty" role="status">Loading invitations…</p>`
        : list.status === 'empty'
          ? html`<p class="empty">No invitations yet.</p>`
          : html`<ul part="list" class="list" aria-label="Invitations">
              ${(list.value ?? []).map((inv) => this.#renderInvitation(inv))}
            </ul>`}
      ${this.#busy.region()}
    `
  }

  #renderInvitation(inv: InvitationEntry) {
    const busy = this.#busy.is(inv.id)
    const open = inv.status === 'pending'
    const resendable = inv.status === 'pending' || inv.status === 'expired' || inv.status === 'declined'
    return html`<li part="invitation" class="invitation item">
      <span class="who">
        <span>${inv.name ? html`${inv.name} · ` : nothing}${inv.email}</span>
        <span class="meta">${inv.role} · invited by ${inv.inviterName} · ${this.#expiry(inv)}</span>
      </span>
      <span part="status status-${inv.status}" class="badge ${inv.status}">${inv.status}</span>
      <span class="actions">
        ${open ? html`<button type="button" ?disabled=${busy} @click=${() => this.#copy(inv)}>${this.#links.has(inv.id) ? 'Copy link' : 'New link'}<span class="visually-hidden"> for ${inv.email}</span></button>` : nothing}
        ${resendable ? html`<button type="button" ?disabled=${busy} @click=${() => this.#resend(inv, true)}>Resend<span class="visually-hidden"> to ${inv.email}</span></button>` : nothing}
        ${open || inv.status === 'expired'
          ? this._confirming === inv.id
            ? html`<span role="group" aria-label="Confirm revoking the invitation to ${inv.email}"
                >Revoke?
                <button type="button" class="danger" ?disabled=${busy} @click=${() => this.#revoke(inv)}>Revoke</button>
                <button type="button" @click=${() => (this._confirming = null)}>Cancel</button></span
              >`
            : html`<button type="button" class="danger" @click=${() => (this._confirming = inv.id)}>Revoke<span class="visually-hidden"> the invitation to ${inv.email}</span></button>`
          : nothing}
      </span>
    </li>`
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'session-invitations': SessionInvitations
  }
}
