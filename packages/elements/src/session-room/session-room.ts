import { ContextProvider } from '@lit/context'
import { html, nothing, type PropertyValues } from 'lit'
import { property, state } from 'lit/decorators.js'
import type { Action, ParticipantInfo, Permission, PresenceInfo, SessionInfo } from '@session-kit/core'
import { SessionErrorEvent, SessionPermissionsChangedEvent, SessionStatusEvent } from '../events/events.js'
import { roomContext } from '../internal/context.js'
import { RoomClient, type TokenSource } from '../internal/room-client.js'
import { RoomState, type RoomStatus } from '../room-state.js'
import { SessionElement } from '../session-element.js'
import { initials, sayAgain } from '../internal/format.js'
import { tokenClaims } from '../internal/token-claims.js'
import { colorIndex } from '../session-element.js'
import { forgetGuestToken, GUEST_EXPIRED, lastGuestSession, readGuestToken, writeGuestToken } from './guest-tokens.js'
import type { InvitationFlow } from './invitation.js'
import type { RoomLecture } from './lecture.js'
import type { RecordingNotice } from './recording-notice.js'
import { PermissionNotices } from './permission-notices.js'
import { styles } from './session-room.styles.js'

const STATUS_TEXT: Record<RoomStatus, string> = {
  // Before the room has started (its elements still loading): it is about to connect.
  idle: 'Connecting…',
  connecting: 'Connecting…',
  live: 'Live',
  offline: 'Offline — reconnecting…',
  waiting: 'Waiting for the instructor to open this session…',
  error: 'Not connected',
}

/** Said when a guest's kept token has expired: reloading cannot help, a new invitation can. */

/** The notice everyone sees (and hears, on joining or when it starts) while the session is recorded. */
const RECORDING_NOTICE = 'This session is being recorded'

/** What the room bar says: the status, or — held back over the edit allowance — that edits wait. */
function statusText(status: RoomStatus, error: { code: string } | null | undefined): string {
  return status === 'offline' && error?.code === 'rate_limited' ? 'Waiting to send your edits' : STATUS_TEXT[status]
}

/**
 * A live coding room. It connects to a Session Kit server with the permission token the host page
 * signed, keeps the connection alive (reconnecting with backoff), and gives every Session Kit
 * element inside it the room and the participant's permissions.
 *
 * @tag session-room
 * @summary The connection, permission context and presence of one session.
 *
 * @slot - The room's elements: `<session-editor>` and friends, and any of your own markup.
 *
 * @csspart status - The status bar above the room's content.
 * @csspart indicator - The coloured dot showing the connection state.
 * @csspart status-text - The connection state in words.
 * @csspart presence - The list of people in the room.
 * @csspart avatar - One person in the presence list.
 * @csspart error - The message shown when the room cannot connect.
 * @csspart notice - Why your permissions changed, in the bar: a lock or a mute ("You were muted by Ada.") for as long as it lasts, anything else ("Editing unlocked by Ada.") for a few seconds.
 * @csspart invitation - The accept/decline card shown for an invitation link.
 * @csspart recording - The notice everyone sees while the session is recorded: "This session is being recorded" (or "Recording paused"). It stays while the recording lasts, also with `hide-status`, and is announced to screen readers when the recording starts and to anyone who joins during one.
 * @csspart consent - Under the session's `consent` recording policy, while it is recorded: your own choice and the buttons to change it, at any time.
 * @csspart consent-choice - Your choice in words ("Record you by name?", "You are recorded by name.", "You are not recorded.").
 * @csspart consent-allow - "Allow": record you by name (pressed while that is your choice).
 * @csspart consent-decline - "Don't record me": your edits appear without your name, your chat and name are left out (pressed while that is your choice).
 * @csspart consent-error - Why your choice could not be saved.
 * @csspart lecture - Lecture mode in the bar, in a room holding a `<session-editor>` or `<session-runner>`: "Raise hand" / "Lower hand", or for instructors "Follow me" and how many hands are raised.
 * @csspart hand-button - "Raise hand" (it opens a line for an optional question) or "Lower hand".
 * @csspart hand-form - The optional question and the button that raises the hand.
 * @csspart follow-button - Instructors: "Follow me" (pressed while everyone follows you).
 * @csspart hand-count - Instructors: how many hands are raised.
 * @csspart spotlight - The read-only pane showing the spotlighted participant's code around their cursor, above the room's content.
 * @csspart end-spotlight - Instructors: the "End spotlight" button.
 *
 * @cssprop --session-color-accent - Accent colour (focus rings, live indicator).
 * @cssprop --session-color-surface - Background of the status bar.
 * @cssprop --session-color-border - Borders.
 * @cssprop --session-color-text - Text colour.
 * @cssprop --session-color-danger - Error colour.
 * @cssprop --session-radius - Corner radius.
 * @cssprop --session-font-family - Font of the room's chrome.
 *
 * @event session-status - The connection status changed (`status`: connecting, live, offline, waiting, error; `reason`).
 * @event session-permissions-changed - The server changed what this participant may do (`permissions`, `participant`, `reason`).
 * @event session-error - The server reported an error (`code`, `message`).
 */
export class SessionRoom extends SessionElement {
  /** @internal Lit styles. */
  static override styles = [SessionElement.baseStyles, styles]

  /** Base URL of the Session Kit server, e.g. `https://rooms.example.edu`. Defaults to the page's origin. */
  @property({ reflect: true }) server = ''

  /** The session id. Must match the token's `sid`. */
  @property({ reflect: true }) session = ''

  /** The room token signed by the host (a JWT). Not reflected: it stays out of serialised markup. */
  @property() token?: string

  /**
   * An invitation token (as in the link an invitee received). Without it, the page URL's
   * `?invite=` is used. The room then shows an accept/decline card and, on accept, joins with the
   * room token the server returns (kept on this device so the guest can come back).
   */
  @property() invite?: string

  /** Hide the built-in status bar (the room still announces changes to screen readers). */
  @property({ type: Boolean, reflect: true, attribute: 'hide-status' }) hideStatus = false

  /** Light or dark chrome; as the page is (its `color-scheme`) when absent. */
  @property({ reflect: true }) theme?: 'light' | 'dark'

  /**
   * Returns a fresh token; called before connecting with an expiring token, before the token
   * expires, and once after the server refuses one.
   */
  @property({ attribute: false }) tokenProvider?: TokenSource

  @state() private _state: RoomState | undefined
  @state() private _announcement = ''
  /** What the lecture and the recording notice say, politely: their same words again too (a second refusal). */
  readonly #announce = (text: string) => (this._announcement = sayAgain(this._announcement, text))
  /** An invitation being answered (its code loads only on pages that carry one). */
  @state() private _invitation: InvitationFlow | null = null
  /** Lecture mode (raise hand, follow me, the spotlight): its code loads once a room showing code is live. */
  @state() private _lecture: RoomLecture | null = null
  #lectureFor: RoomClient | null = null
  /**
   * What a recorded room says and asks (recording-notice.ts): its code loads once a room is
   * recorded, and shows nothing for another client than the room's (a new one loads with it).
   */
  #recording: RecordingNotice | null = null
  #recordingFor: RoomClient | null = null
  #inviting: string | null = null
  /**
   * Why permissions last changed, in the server's words: a lock or a mute is explained for exactly
   * as long as it holds; any other reason ("Editing unlocked by Ada.") for a moment.
   */
  #notices = new PermissionNotices(this)

  #provider = new ContextProvider(this, { context: roomContext })
  #client: RoomClient | null = null
  #startTimer?: ReturnType<typeof setTimeout>
  #last: { status: RoomStatus; permissions: string; error: string | null; locked: boolean; muted: boolean } = { status: 'idle', permissions: '', error: null, locked: false, muted: false }

  /** The connection status: idle, connecting, live, offline, waiting or error. */
  get status(): RoomStatus {
    return this._state?.status ?? 'idle'
  }

  /** The session as the server describes it (title, language, editingLocked …), once live. */
  get sessionInfo(): SessionInfo | null {
    return this._state?.session ?? null
  }

  /** Who you are in this room, once live. */
  get participant(): ParticipantInfo | null {
    return this._state?.participant ?? null
  }

  /** Your permissions, as the server granted them. */
  get permissions(): readonly Permission[] {
    return this._state?.permissions ?? []
  }

  /** Everyone here now, with their cursors (hidden participants only if you are an instructor). */
  get participants(): readonly PresenceInfo[] {
    return this.#client ? [...this.#client.participants.values()] : []
  }

  /** The last error, if any. */
  get error(): { code: string; message: string } | null {
    return this._state?.error ?? null
  }

  /** Whether you may do something, by the same rules the server applies. */
  can(action: Action): boolean {
    return this._state?.can(action) ?? false
  }

  override connectedCallback() {
    super.connectedCallback()
    this.#schedule()
  }

  override disconnectedCallback() {
    super.disconnectedCallback()
    clearTimeout(this.#startTimer)
    this.#client?.stop()
    this.#client = null
    this._lecture?.stop()
    this._lecture = this.#lectureFor = null
    this.#recording = this.#recordingFor = null
  }

  protected override willUpdate(changed: PropertyValues<this>) {
    if (!this.#client) return
    if (changed.has('server') || changed.has('session')) {
      this.#client.stop()
      this.#client = null
      this.#schedule()
    } else if (changed.has('token') && this.token && this.#client.status === 'live') {
      this.#client.send({ type: 'token', token: this.token })
    } else if ((changed.has('token') || changed.has('tokenProvider')) && (this.#client.status === 'error' || this.#client.status === 'idle')) {
      // Refused, or never started for want of a token (the page set it after the room connected): try again with it.
      this.#client.stop()
      this.#client = null
      this.#schedule()
    }
  }

  // Start after the children have connected, so they can ask for the document first.
  #schedule() {
    clearTimeout(this.#startTimer)
    this.#startTimer = setTimeout(() => void this.#childrenDefined().then(() => this.#start()), 0)
  }

  /**
   * Session Kit elements inside that are not defined yet (the CDN loads each element's code on
   * its own): wait for them, a second at most, so an editor asks for the document before the
   * hello — one connection, not one for events and a second with the document.
   */
  #childrenDefined(): Promise<unknown> {
    const waiting = new Set([...this.querySelectorAll(':not(:defined)')].map((el) => el.localName).filter((tag) => tag.startsWith('session-')))
    if (!waiting.size) return Promise.resolve()
    return Promise.race([Promise.all([...waiting].map((tag) => customElements.whenDefined(tag))), new Promise((r) => setTimeout(r, 1000))])
  }

  /** The invitation token to handle: the attribute, else `?invite=` in the page URL. */
  get #inviteToken(): string | null {
    if (this.invite) return this.invite
    try {
      return new URL(location.href).searchParams.get('invite')
    } catch {
      return null
    }
  }

  #start() {
    if (!this.isConnected || this.#client) return
    const invite = this.#inviteToken
    if (invite && this.#inviting !== invite) {
      void this.#answerInvitation(invite)
      return
    }
    if (this.#inviting && this._invitation?.view.phase !== 'joined') return
    const fromPage = Boolean(this.#pageToken || this.tokenProvider)
    // A page that names no session and gives no token (the server's invitation page, reloaded after
    // the invitation was accepted and dropped from the address): the guest's last room here.
    if (!this.session && !fromPage) {
      const last = lastGuestSession(this.#base)
      if (last) {
        this.session = last
        this.#schedule()
        return
      }
    }
    const guest = () => {
      const kept = readGuestToken(this.#base, this.session)
      return kept && !kept.expired ? kept.token : null
    }
    const client = new RoomClient({
      server: this.server,
      session: this.session,
      token: () => this.#pageToken ?? guest() ?? undefined,
      // Guests hold server-signed tokens: renew them with the server unless the page provides tokens.
      tokenProvider: () => this.tokenProvider ?? (!this.#pageToken && guest() ? () => this.#refreshGuest() : undefined),
      onChange: () => this.#publish(client),
    })
    this.#client = client
    if (!this.session) {
      this.#publish(client, { code: 'no_session', message: 'This room has no session attribute.' })
      return
    }
    const sid = tokenClaims(this.#pageToken).sid
    if (sid && sid !== this.session) {
      this.#publish(client, { code: 'token_wrong_session', message: `The token is for session "${sid}", but this room is "${this.session}".` })
      return
    }
    if (!fromPage) {
      const kept = readGuestToken(this.#base, this.session)
      if (kept?.expired) {
        // Never sent: the server would refuse it, and it cannot be renewed.
        forgetGuestToken(this.#base, this.session)
        this.#publish(client, { code: 'token_expired', message: GUEST_EXPIRED })
        return
      }
      if (!kept) {
        console.warn('<session-room>: no token. Set the token attribute or a tokenProvider (guests of an invitation get one when they accept it).')
        this.#publish(client, { code: 'token_missing', message: 'This room has no token: open your invitation link again, or sign in.' })
        return
      }
    }
    client.start()
  }

  /** The token the page gave, as a property or (before upgrade) as an attribute. */
  get #pageToken(): string | undefined {
    return this.token ?? this.getAttribute('token') ?? undefined
  }

  /**
   * Lecture mode (its bar controls and the spotlight pane) loads once the room is live, in a room
   * that shows code: a page holding only invitations or analytics downloads none of it.
   */
  #loadLecture() {
    const client = this.#client
    if (!client || this._state?.client !== client || this._state.status !== 'live' || this.#lectureFor === client) return
    if (!this.querySelector('session-editor, session-runner')) return
    this.#lectureFor = client
    import('./lecture.js').then(({ RoomLecture }) => {
      if (client !== this.#client) return
      this._lecture?.stop()
      this._lecture = new RoomLecture(this, client, this.#announce)
    }, () => (this.#lectureFor = null))
  }

  #publish(client: RoomClient, localError?: { code: string; message: string }) {
    if (client !== this.#client) return
    // Republished only when something in it changed: a keystroke's acknowledgement or a moving
    // cursor re-renders no element (the editor follows both from the client directly).
    const next = RoomState.of(client, this._state, localError ? { status: 'error', error: localError } : {})
    if (next === this._state) return
    const { status, error } = next
    this._state = next
    this.#loadLecture()
    // Once recorded: what is said of it (on joining, when it starts) and, under `consent`, the prompt.
    let why: string | null = null
    if (next.session && next.session.recordingState !== 'off' && this.#recordingFor !== client) {
      this.#recordingFor = client
      why = this.#last.permissions && client.lastReason
      void import('./recording-notice.js').then(({ RecordingNotice }) => (this.#recording = new RecordingNotice(this, client, this.#announce, why)))
    }
    this.#provider.setValue(next, true)
    const locked = Boolean(client.session?.editingLocked)
    const muted = Boolean(client.participant?.muted)
    // A key for "what this person may do changed" (compared, never shown).
    const perms = `${client.permissions}|${locked}${muted}${client.participant?.role}${client.session?.recordingState}`
    const reason = client.lastReason
    if (status !== this.#last.status) {
      this.dispatchEvent(new SessionStatusEvent(status, error?.message ?? null))
      // A quick rejoin after a permission change (connecting → live) is not news; the reason is.
      const blip = (status === 'live' && this.#last.status === 'connecting') || status === 'connecting'
      if (!blip) this._announcement = status === 'error' ? `Not connected: ${error?.message ?? ''}` : status === 'offline' && error?.code === 'rate_limited' ? error.message : STATUS_TEXT[status]
      // For the developer embedding the room: a room that cannot be joined says why in the console.
      if (status === 'error' && error) console.warn(`<session-room session="${this.session}">: not connected (${error.code}): ${error.message}`)
    }
    if (perms !== this.#last.permissions && client.participant) {
      if (this.#last.permissions) this.dispatchEvent(new SessionPermissionsChangedEvent(client.permissions, client.participant, reason))
      if (this.#last.permissions && reason) {
        // A recording that just started is said once, by its notice, with this reason.
        if (!why) this._announcement = reason
        this.#notices.said(reason, { locked: locked && !this.#last.locked, muted: muted && !this.#last.muted })
      }
    }
    this.#notices.holds(locked, muted)
    const errorKey = error ? `${error.code}:${error.message}` : null
    if (errorKey && errorKey !== this.#last.error) this.dispatchEvent(new SessionErrorEvent(error!.code, error!.message))
    this.#last = { status, permissions: perms, error: errorKey, locked, muted }
  }

  get #base(): string {
    return (this.server || location.origin).replace(/\/+$/, '')
  }

  /** Show the invitation behind `token` and let the person accept or decline it. */
  async #answerInvitation(token: string) {
    this.#inviting = token
    this.requestUpdate()
    const { InvitationFlow } = await import('./invitation.js')
    if (this.#inviting !== token) return
    const flow = new InvitationFlow(token, {
      base: this.#base,
      session: this.session,
      changed: () => this.requestUpdate(),
      joined: (sessionId) => this.#joined(sessionId),
      declined: () => this.#forgetInviteInUrl(),
    })
    this._invitation = flow
    await flow.load()
  }

  /** The invitation is done: join the room with the guest token. */
  #joined(sessionId: string) {
    if (!this.session) this.session = sessionId
    this._invitation?.markJoined()
    this.#forgetInviteInUrl()
    this.#schedule()
  }

  /** Drop `?invite=` from the address bar so a reload or a shared URL does not carry it. */
  #forgetInviteInUrl() {
    try {
      const url = new URL(location.href)
      if (url.searchParams.has('invite')) {
        url.searchParams.delete('invite')
        history.replaceState(history.state, '', url)
      }
    } catch {
      // Not in a browsing context with history: nothing to clean.
    }
  }

  async #refreshGuest(): Promise<string | undefined> {
    const kept = readGuestToken(this.#base, this.session)
    if (!kept || kept.expired) return undefined
    const current = kept.token
    const res = await fetch(`${this.#base}/v1/tokens/refresh`, { method: 'POST', headers: { authorization: `Bearer ${current}` } })
    if (!res.ok) return current
    const { token } = (await res.json()) as { token: string }
    writeGuestToken(this.#base, this.session, token)
    return token
  }

  /**
   * @internal A connection to a room without an element (the classroom's tiles, its messages):
   * made here so the connection's code stays in the room's chunk.
   */
  static connect(opts: ConstructorParameters<typeof RoomClient>[0]): RoomClient {
    return new RoomClient(opts)
  }

  /** The room's client, for Session Kit elements. */
  get client(): RoomClient | null {
    return this.#client
  }

  protected override render() {
    if (this.#inviting && this._invitation?.view.phase !== 'joined') {
      return this._invitation?.render() ?? html`<section part="invitation" class="invitation"><p role="status">Checking your invitation…</p></section>`
    }
    const st = this._state
    const status = st?.status ?? 'idle'
    const people = st?.participants ?? []
    const notice = this.#notices.text
    const recordingState = st?.session?.recordingState ?? 'off'
    // Persistent while recorded, whatever the page hides: the notice, and the consent prompt where one is asked.
    const recording =
      recordingState === 'off'
        ? nothing
        : html`<span part="recording" class="recording ${recordingState}">${recordingState === 'recording' ? RECORDING_NOTICE : 'Recording paused'}</span>${this.#recording?.render(st)}`
    return html`
      ${this.hideStatus
        ? recording
        : html`<div part="status" class="status ${status}">
            <span part="indicator" class="dot" aria-hidden="true"></span>
            ${recording}
            <span part="status-text" class="status-text">${st?.session?.title ? html`<strong>${st.session.title}</strong> · ` : nothing}${statusText(status, st?.error)}${notice ? html` · <span part="notice" class="notice">${notice}</span>` : nothing}</span>
            ${people.length
              ? html`<ul part="presence" class="presence" aria-label="In the room">
                  ${people.map(
                    (p) => html`<li part="avatar" class="avatar c${colorIndex(p.color)}" title="${p.name} (${p.role}${p.muted ? ', muted' : ''})">
                      ${p.avatar ? html`<img src=${p.avatar} alt="" />` : initials(p.name)}<span class="visually-hidden">${p.name}, ${p.role}${p.userId === st?.participant?.userId ? ' (you)' : ''}</span>
                    </li>`,
                  )}
                </ul>`
              : nothing}
            ${st && this._lecture?.client === st.client ? this._lecture.controls(st) : nothing}
          </div>`}
      ${status === 'error' && st?.error ? html`<p part="error" class="error" role="alert">${st.error.message}</p>` : nothing}
      <div class="visually-hidden" role="status" aria-live="polite">${this._announcement}</div>
      ${st && this._lecture?.client === st.client ? this._lecture.pane(st) : nothing}
      <slot @slotchange=${() => this.#loadLecture()}></slot>
    `
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'session-room': SessionRoom
  }
}
