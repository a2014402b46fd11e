import { html, nothing } from 'lit'
import type { InvitationInfo, Role } from '@session-kit/core'
import { relativeTime } from '../internal/format.js'
import { forgetGuestToken, GUEST_EXPIRED, readGuestToken, writeGuestToken } from './guest-tokens.js'

/** What the room gives an invitation it is answering. */
export interface InvitationHost {
  /** The Session Kit server's origin. */
  readonly base: string
  /** The room's session, if the page names one ('' if not). */
  readonly session: string
  /** Something the person sees changed. */
  changed(): void
  /** A guest token for `sessionId` is kept on this device: join. */
  joined(sessionId: string): void
  /** The person declined: the invitation is over. */
  declined(): void
}

interface InvitationView {
  phase: 'loading' | 'ask' | 'sending' | 'problem' | 'joined'
  info?: InvitationInfo
  message?: string
}

const ROLE_ARTICLE: Record<Role, string> = { instructor: 'an', learner: 'a', observer: 'an' }

const PROBLEM: Record<string, string> = {
  accepted: 'This invitation has already been used. If you accepted it on this device, the room opens below.',
  declined: 'You declined this invitation.',
  revoked: 'This invitation was withdrawn by the instructor.',
  expired: 'This invitation has expired: ask the instructor for a new one.',
}

/**
 * The invitation card a `<session-room>` shows when its page carries an invitation (`?invite=…`):
 * who invited whom as what, accept with a name or decline. Loaded only on such pages.
 */
export class InvitationFlow {
  view: InvitationView = { phase: 'loading' }

  constructor(
    readonly token: string,
    private readonly host: InvitationHost,
  ) {}

  #show(view: InvitationView) {
    this.view = view
    this.host.changed()
  }

  /** The room is joining: the card goes. */
  markJoined() {
    this.view = { ...this.view, phase: 'joined' }
  }

  /** Ask the server what the invitation is. */
  async load() {
    const { base, session } = this.host
    try {
      const res = await fetch(`${base}/v1/invitations/${encodeURIComponent(this.token)}`)
      const body = (await res.json()) as InvitationInfo & { error?: { message: string } }
      if (!res.ok) return this.#show({ phase: 'problem', message: body.error?.message ?? 'This invitation link is not valid.' })
      if (session && body.sessionId !== session) return this.#show({ phase: 'problem', message: `This invitation is for another session (“${body.sessionTitle}”).` })
      const kept = body.status === 'accepted' ? readGuestToken(base, body.sessionId) : null
      if (kept?.expired) {
        forgetGuestToken(base, body.sessionId)
        return this.#show({ phase: 'problem', info: body, message: GUEST_EXPIRED })
      }
      this.#show({ phase: body.status === 'pending' ? 'ask' : 'problem', info: body, message: PROBLEM[body.status] })
      if (kept) this.host.joined(body.sessionId)
    } catch {
      this.#show({ phase: 'problem', message: 'The server could not be reached. Check your connection and reload the page.' })
    }
  }

  async #respond(action: 'accept' | 'decline', name: string) {
    const view = this.view
    if (!view.info) return
    this.#show({ ...view, phase: 'sending' })
    try {
      const res = await fetch(`${this.host.base}/v1/invitations/${encodeURIComponent(this.token)}/${action}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(action === 'accept' ? { name } : {}),
      })
      const body = (await res.json()) as { token?: string; sessionId?: string; error?: { message: string } }
      if (!res.ok) return this.#show({ ...view, phase: 'problem', message: body.error?.message ?? 'That did not work.' })
      if (action === 'decline') {
        this.#show({ ...view, phase: 'problem', message: 'You declined the invitation. You can close this page.' })
        this.host.declined()
        return
      }
      writeGuestToken(this.host.base, body.sessionId!, body.token!)
      this.host.joined(body.sessionId!)
    } catch {
      this.#show({ ...view, phase: 'ask', message: 'The server could not be reached; try again.' })
    }
  }

  render() {
    const inv = this.view
    const info = inv.info
    return html`<section part="invitation" class="invitation" aria-labelledby="inv-title">
      <h2 id="inv-title">${info ? html`You are invited to “${info.sessionTitle}”` : 'Invitation'}</h2>
      ${inv.phase === 'loading' ? html`<p role="status">Checking your invitation…</p>` : nothing}
      ${info && (inv.phase === 'ask' || inv.phase === 'sending')
        ? html`<p>${info.inviterName} invited you to join as ${ROLE_ARTICLE[info.role]} <strong>${info.role}</strong>. The invitation expires ${relativeTime(info.expiresAt)}.</p>
            <form
              @submit=${(e: Event) => {
                e.preventDefault()
                const name = String(new FormData(e.target as HTMLFormElement).get('name') ?? '').trim()
                void this.#respond('accept', name || info.name || info.email.split('@')[0]!)
              }}
            >
              <label>Your name, as others will see it <input name="name" autocomplete="name" required maxlength="200" .value=${info.name ?? ''} /></label>
              <div class="invitation-actions">
                <button class="primary" type="submit" ?disabled=${inv.phase === 'sending'}>Accept and join</button>
                <button type="button" ?disabled=${inv.phase === 'sending'} @click=${() => this.#respond('decline', '')}>Decline</button>
              </div>
            </form>`
        : nothing}
      ${inv.message ? html`<p role=${inv.phase === 'problem' ? 'alert' : 'status'}>${inv.message}</p>` : nothing}
    </section>`
  }
}
