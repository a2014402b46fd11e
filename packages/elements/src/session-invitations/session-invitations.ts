import { css, html, nothing } from 'lit'
import { property, state } from 'lit/decorators.js'
import { Permission, ROLE_RANK, ROLES, type Role } from '@session-kit/core'
import { relativeTime } from '../internal/format.js'
import { errorMessage, okOrThrow } from '../internal/http.js'
import { RoomController } from '../room-controller.js'
import { SessionElement, listStyles, statusStyles } from '../session-element.js'

export interface InvitationEntry {
  id: string
  email: string
  name: string | null
  role: Role
  status: 'pending' | 'accepted' | 'declined' | 'expired' | 'revoked'
  inviterName: string
  createdAt: string
  expiresAt: string
  link?: string
}

interface BulkResult {
  email: string
  result: 'created' | 'invalid' | 'already_invited' | 'rate_limited'
  message?: string
}

const RESULT_WORDS: Record<BulkResult['result'], string> = {
  created: 'invited',
  invalid: 'not a valid address',
  already_invited: 'already invited',
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
  static override styles = [
    SessionElement.baseStyles,
    css`
      :host {
        display: block;
        font-size: 0.9rem;
      }
      /* One line where it fits; in a narrow column the addresses keep their width and the rest wraps. */
      form {
        display: flex;
        flex-wrap: wrap;
        gap: 0.4rem 0.6rem;
        align-items: end;
        padding: 0.6rem;
        border: 1px solid var(--_border);
        border-radius: var(--_radius);
        background: var(--_surface);
      }
      .emails {
        flex: 1 1 14rem;
        min-width: 0;
      }
      label {
        display: grid;
        gap: 0.2rem;
        font-size: 0.8rem;
        color: var(--_muted);
      }
      textarea,
      select,
      input {
        font: inherit;
        color: var(--_fg);
        background: var(--_bg);
        border: 1px solid var(--_border);
        border-radius: 6px;
        padding: 0.3rem 0.45rem;
      }
      textarea {
        min-height: 2.2rem;
        resize: vertical;
      }
      input[type='number'] {
        width: 5.5rem;
      }
      .hint {
        flex-basis: 100%;
        margin: 0;
        font-size: 0.78rem;
        color: var(--_muted);
      }
      .results {
        list-style: none;
        margin: 0.6rem 0 0;
        padding: 0;
        display: grid;
        gap: 0.3rem;
      }
      .results li.bad {
        color: var(--_danger);
      }
      .invitation {
        display: flex;
        flex-wrap: wrap;
        gap: 0.4rem 0.6rem;
        align-items: center;
        padding: 0.4rem 0.5rem;
        border: 1px solid var(--_border);
        border-radius: 6px;
      }
      .who {
        flex: 1;
        min-width: 12rem;
        display: grid;
      }
      .meta {
        color: var(--_muted);
        font-size: 0.78rem;
      }
      .badge {
        font-size: 0.72rem;
        padding: 0.05rem 0.5rem;
        border-radius: 999px;
        border: 1px solid currentColor;
        text-transform: capitalize;
      }
      .badge.pending {
        color: var(--_accent);
      }
      .badge.accepted {
        color: var(--_ok);
      }
      .badge.declined,
      .badge.expired,
      .badge.revoked {
        color: var(--_muted);
      }
    `,
    statusStyles,
    listStyles,
  ]

  /** Explain to participants who cannot invite why there is nothing here (default: render nothing). */
  @property({ type: Boolean, reflect: true, attribute: 'show-denied' }) showDenied = false

  /** Hours an invitation lasts unless changed in the form (1–720). */
  @property({ type: Number, attribute: 'default-hours' }) defaultHours = 72

  @property({ reflect: true }) theme?: 'light' | 'dark'

  @state() private _list: InvitationEntry[] | null = null
  @state() private _error = ''
  @state() private _formError = ''
  @state() private _results: BulkResult[] = []
  @state() private _busy = ''
  @state() private _confirming: string | null = null
  @state() private _announce = ''

  /** Links seen in this page (creation or resend): the server keeps only hashes of tokens. */
  #links = new Map<string, string>()
  #timer?: ReturnType<typeof setTimeout>
  #room = new RoomController(this, {
    events: { invitation: () => this.#schedule() },
    onChange: (state, previous) => {
      if (state?.status === 'live' && previous?.status !== 'live' && this.#may) void this.#load()
    },
  })

  get #may(): boolean {
    return Boolean(this.#room.state?.can(Permission.INVITE_PARTICIPANTS))
  }

  #schedule() {
    clearTimeout(this.#timer)
    this.#timer = setTimeout(() => void this.#load(), 200)
  }

  async #load() {
    const client = this.#room.state?.client
    if (!client) return
    try {
      const res = await client.api('GET', '/invitations')
      await okOrThrow(res)
      this._list = ((await res.json()) as { invitations: InvitationEntry[] }).invitations
      this._error = ''
    } catch (e) {
      this._error = `The invitations could not be loaded: ${(e as Error).message}`
    }
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
    this._busy = 'form'
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
      this._announce = `${created.length} invitation${created.length === 1 ? '' : 's'} sent.`
      // Only the addresses go: the role and the expiry usually stay the same for the next ones.
      if (created.length) (form.elements.namedItem('emails') as HTMLTextAreaElement).value = ''
      await this.#load()
    } catch {
      this._formError = 'The server could not be reached; nothing was sent.'
    } finally {
      this._busy = ''
    }
  }

  async #resend(inv: InvitationEntry, notify: boolean) {
    this._busy = inv.id
    try {
      const res = await this.#room.state!.client.api('POST', `/invitations/${inv.id}/resend`, { notify })
      if (!res.ok) {
        this._error = await errorMessage(res)
        return null
      }
      const fresh = (await res.json()) as InvitationEntry
      if (fresh.link) this.#links.set(inv.id, fresh.link)
      this._announce = notify ? `The invitation to ${inv.email} was sent again; the old link no longer works.` : `A new link for ${inv.email} is ready; the old one no longer works.`
      await this.#load()
      return fresh
    } finally {
      this._busy = ''
    }
  }

  async #revoke(inv: InvitationEntry) {
    this._busy = inv.id
    try {
      const res = await this.#room.state!.client.api('DELETE', `/invitations/${inv.id}`)
      if (!res.ok) this._error = await errorMessage(res)
      else this._announce = `The invitation to ${inv.email} was revoked.`
      await this.#load()
    } finally {
      this._busy = ''
      this._confirming = null
    }
  }

  /** Copy an invitation's link; one not seen on this page is replaced by a fresh link first. */
  async #copy(inv: InvitationEntry) {
    let link = this.#links.get(inv.id)
    if (!link) link = (await this.#resend(inv, false))?.link
    if (!link) return
    this._announce = (await copyText(link, this)) ? `Link for ${inv.email} copied.` : `Copying was blocked; the link is ${link}`
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
        <button class="primary" type="submit" ?disabled=${this._busy === 'form'}>${this._busy === 'form' ? 'Inviting…' : 'Invite'}</button>
        <p id="hint" class="hint">Paste several addresses separated by commas, spaces or new lines: each gets its own link by email.</p>
        ${this._formError ? html`<p class="hint error" role="alert">${this._formError}</p>` : nothing}
      </form>
      ${this._results.length
        ? html`<ul part="results" class="results" aria-label="Result of the last invitation">
            ${this._results.map((r) => html`<li class=${r.result === 'created' ? '' : 'bad'}>${r.email}: ${RESULT_WORDS[r.result]}</li>`)}
          </ul>`
        : nothing}
      ${this._error ? html`<p class="error" role="alert">${this._error}</p>` : nothing}
      ${this._list === null && !this._error
        ? html`<p class="empty" role="status">Loading invitations…</p>`
        : this._list?.length === 0
          ? html`<p class="empty">No invitations yet.</p>`
          : html`<ul part="list" class="list" aria-label="Invitations">
              ${(this._list ?? []).map((inv) => this.#renderInvitation(inv))}
            </ul>`}
      <div class="visually-hidden" role="status" aria-live="polite">${this._announce}</div>
    `
  }

  #renderInvitation(inv: InvitationEntry) {
    const busy = this._busy === inv.id
    const open = inv.status === 'pending'
    const resendable = inv.status === 'pending' || inv.status === 'expired' || inv.status === 'declined'
    return html`<li part="invitation" class="invitation">
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

  override disconnectedCallback() {
    super.disconnectedCallback()
    clearTimeout(this.#timer)
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'session-invitations': SessionInvitations
  }
}
