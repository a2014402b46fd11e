import { CloseCode, NO_LECTURE, Permission, PROTOCOL_VERSION, retryPolicy, type ClientEvent, type Cursor, type LectureState, type ParticipantInfo, type PresenceInfo, type ServerEvent, type SessionInfo, type SpotlightText, type SyncMode } from '@session-kit/core'
import { backoffDelay } from './backoff.js'
import type { DocSync } from './doc-sync.js'
import type { RoomDocument, RoomDocumentHost } from './room-document.js'
import type { RoomStatus } from '../room-state.js'
import type { TextSource } from '../text-source.js'
import { tokenClaims, tokenExpiry } from './token-claims.js'

export type TokenSource = () => string | undefined | Promise<string | undefined>

/** A server event re-dispatched to elements: `client.events.addEventListener('chat', e => e.detail)`. */
export class ServerEventMessage<T extends ServerEvent = ServerEvent> extends Event {
  constructor(readonly detail: T) {
    super(detail.type)
  }
}

export interface RoomClientOptions {
  server: string
  session: string
  /** The token attribute's value. */
  token: () => string | undefined
  /** Called for a fresh token before connecting with an expiring one and before it expires. */
  tokenProvider: () => TokenSource | undefined
  /** Called after every state change. */
  onChange: () => void
  /** Server events for elements (chat, runs, moderation …) are re-dispatched here. */
  onEvent?: (event: ServerEvent) => void
  /**
   * Follow the code as a light viewer even where the person may edit (an instructor's overview of
   * many rooms): plain text and splices, never Automerge, never a write.
   */
  view?: boolean
}

const REFRESH_AHEAD_S = 60
const WAITING_RETRY_MS = () => 5000 + Math.random() * 5000

/**
 * One room connection: hello/welcome, reconnect with backoff (or at once after 4001/4003, or a
 * waiting state on 4404), token refresh, presence, and — through `RoomDocument` — the document in
 * the mode the server grants (a full replica for writers, a light view for everyone else).
 */
export class RoomClient {
  status: RoomStatus = 'idle'
  error: { code: string; message: string; retryAfterMs?: number } | null = null
  participant: ParticipantInfo | null = null
  permissions: Permission[] = []
  session: SessionInfo | null = null
  /** Everyone here now, with live cursors (updated in place: elements listen to `events` for cursors). */
  readonly participants = new Map<string, PresenceInfo>()
  /** Set when the server pushed a reason with a permission change ("Editing locked by …"). */
  lastReason: string | null = null
  /** Every server event, by its type, for elements (chat, runs, rate limits …). */
  readonly events = new EventTarget()
  /** Lecture mode as this participant may see it: who leads, raised hands, the spotlight. */
  lecture: LectureState = NO_LECTURE
  /** While the spotlight shows a learner's assignment room: its latest code (kept here, as it may come before any element listens). */
  spotlightText: SpotlightText | null = null

  #ws: WebSocket | null = null
  #attempt = 0
  #retryTimer?: ReturnType<typeof setTimeout>
  #refreshTimer?: ReturnType<typeof setTimeout>
  #presenceTimer?: ReturnType<typeof setTimeout>
  #pendingCursor: Cursor | null | undefined
  #stopped = true
  #refreshedAfter401 = false
  #currentToken: string | undefined
  /** The document's side of the connection, loaded once an element shows the code. */
  #document: RoomDocument | null = null
  #loadingDocument: Promise<unknown> | null = null
  /** Whether the current socket's hello asked for the document. */
  #socketHasDocument = false
  readonly #documentHost: RoomDocumentHost = {
    sendEvent: (event) => this.send(event),
    changed: () => this.opts.onChange(),
    reconnect: () => this.#reconnectNow(),
    canEdit: () => !this.opts.view && this.permissions.includes(Permission.EDIT_CODE),
    likelyWriter: () => !this.opts.view && tokenClaims(this.#currentToken ?? this.opts.token()).role !== 'observer',
    storeKey: () => `${this.opts.server}|${this.opts.session}|${tokenClaims(this.#currentToken ?? this.opts.token()).sub ?? 'anonymous'}`,
    failed: (message) => {
      this.error = { code: 'document_unavailable', message }
      this.opts.onChange()
    },
  }

  constructor(readonly opts: RoomClientOptions) {}

  /** What editors show: the full replica or the light view, once it holds the whole text. */
  get source(): TextSource | null {
    return this.#document?.source ?? null
  }

  /** The Automerge replica, for those who may edit (null for a light viewer). */
  get doc(): DocSync | null {
    return this.#document?.doc ?? null
  }

  /** How this connection takes part in the document (full, view or events), once welcomed. */
  get mode(): SyncMode | null {
    if (this.#socketHasDocument) return this.#document?.mode ?? null
    return this.status === 'live' ? 'events' : null
  }

  get wsUrl(): string {
    const base = (this.opts.server || location.origin).replace(/\/+$/, '')
    return base.replace(/^http/, 'ws') + `/v1/sessions/${encodeURIComponent(this.opts.session)}/sync`
  }

  get token(): string | undefined {
    return this.#currentToken
  }

  start() {
    this.#stopped = false
    this.#attempt = 0
    void this.#open()
  }

  stop() {
    this.#stopped = true
    clearTimeout(this.#retryTimer)
    clearTimeout(this.#refreshTimer)
    clearTimeout(this.#presenceTimer)
    const ws = this.#ws
    this.#ws = null
    ws?.close(1000, 'left')
    this.#document?.stop()
    this.#set('idle')
  }

  /**
   * An element shows the code: connect in a mode that carries it. The server then makes this page
   * a full peer (Automerge loads) or, for a person who cannot edit, a light viewer (it never does).
   */
  needDocument() {
    // Its code loads only here: a page of events only (invitations, say) never fetches it.
    this.#loadingDocument ??= import('./room-document.js').then(
      ({ RoomDocument }) => {
        this.#document = new RoomDocument(this.#documentHost)
        // A socket that said hello without the document cannot carry it: connect again.
        if (!this.#stopped && this.#ws && !this.#socketHasDocument) this.#reconnectNow()
      },
      (e: Error) => {
        this.#loadingDocument = null
        this.#documentHost.failed(`The code could not load (${e.message}). Reload the page to try again.`)
      },
    )
  }

  /** Lecture mode's events (follow, hand, spotlight): false when not connected. */
  lead(event: Extract<ClientEvent, { type: 'follow' | 'hand' | 'spotlight' }>): boolean {
    return this.send(event)
  }

  /** Send an event (a `ClientEvent`); false when not connected (the caller tells the person). */
  send(event: object): boolean {
    if (this.#ws?.readyState !== WebSocket.OPEN || this.status !== 'live') return false
    this.#ws.send(JSON.stringify(event))
    return true
  }

  /** The server's base URL and an authorised fetch for the HTTP API. */
  get baseUrl(): string {
    return (this.opts.server || location.origin).replace(/\/+$/, '')
  }

  async api(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<Response> {
    return fetch(`${this.baseUrl}/v1/sessions/${encodeURIComponent(this.opts.session)}${path}`, {
      method,
      signal,
      headers: { authorization: `Bearer ${this.#currentToken ?? this.opts.token()}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
  }

  /** Share this participant's cursor (throttled; the server stamps who it is). */
  setCursor(cursor: Cursor | null) {
    this.#pendingCursor = cursor
    if (this.#presenceTimer) return
    const tick = () => {
      this.#presenceTimer = undefined
      if (this.#pendingCursor === undefined) return
      this.send({ type: 'presence', cursor: this.#pendingCursor })
      this.#pendingCursor = undefined
      this.#presenceTimer = setTimeout(tick, 60)
    }
    tick()
  }

  async #resolveToken(force = false): Promise<string | undefined> {
    const provider = this.opts.tokenProvider()
    let token = this.opts.token()
    if (this.#currentToken && !force) token = this.#currentToken
    const exp = tokenExpiry(token)
    if (provider && (force || !token || (exp !== null && exp - Date.now() / 1000 < REFRESH_AHEAD_S))) {
      try {
        token = (await provider()) ?? token
      } catch (e) {
        this.error = { code: 'token_provider', message: `The page could not provide a token: ${(e as Error).message}` }
      }
    }
    this.#currentToken = token
    return token
  }

  async #open() {
    if (this.#stopped) return
    clearTimeout(this.#retryTimer)
    const token = await this.#resolveToken()
    if (this.#stopped) return
    if (!token) return this.#fail('token_missing', 'This room has no token: the page must set the token attribute or a tokenProvider.')
    const exp = tokenExpiry(token)
    if (exp !== null && exp < Date.now() / 1000) return this.#fail('token_expired', 'The room token has expired. Reload the page to get a new one.')
    // Elements learn of the room here and ask for what they need: with the document's code loaded,
    // the hello asks for the document (one connection, not one for events and a second with it).
    this.#set(this.status === 'live' || this.status === 'idle' ? 'connecting' : this.status)
    await this.#loadingDocument
    if (this.#stopped) return
    let ws: WebSocket
    try {
      ws = new WebSocket(this.wsUrl)
    } catch {
      return this.#fail('bad_server', `"${this.opts.server}" is not a valid server address.`)
    }
    ws.binaryType = 'arraybuffer'
    this.#ws = ws
    ws.onopen = () => {
      // Ask for the document as soon as an element wants it, even while Automerge still loads:
      // the hello, the welcome and the first sync frame then overlap with the wasm.
      const document = this.#document
      this.#socketHasDocument = document !== null
      document?.opened((bytes) => ws.readyState === WebSocket.OPEN && ws.send(bytes))
      ws.send(JSON.stringify({ type: 'hello', token, protocol: PROTOCOL_VERSION, ...(document ? (this.opts.view ? { mode: 'view' } : document.hello()) : { mode: 'events' }) }))
    }
    ws.onmessage = (e) => {
      if (this.#ws !== ws) return
      if (typeof e.data === 'string') this.#event(JSON.parse(e.data) as ServerEvent)
      else this.#document?.binary(new Uint8Array(e.data as ArrayBuffer))
    }
    ws.onclose = (e) => {
      if (this.#ws !== ws) return
      this.#ws = null
      this.#document?.closed(e.code)
      this.#closed(e.code, e.reason)
    }
  }

  #event(event: ServerEvent) {
    switch (event.type) {
      case 'welcome':
        this.#attempt = 0
        this.#refreshedAfter401 = false
        this.error = null
        this.participant = event.participant
        this.permissions = event.permissions
        this.session = event.session
        this.participants.clear()
        for (const p of event.participants) this.participants.set(p.userId, p)
        this.lecture = event.lecture ?? NO_LECTURE
        if (this.spotlightText?.sessionId !== this.lecture.spotlight?.sessionId) this.spotlightText = null
        this.#scheduleRefresh()
        this.#set('live')
        if (this.#socketHasDocument) this.#document?.welcome(event.mode)
        break
      case 'joined':
      case 'presence':
        this.participants.set(event.participant.userId, event.participant)
        this.opts.onChange()
        break
      case 'presences':
        // One batch, one change: the room republishes only if more than cursors moved.
        for (const p of event.participants) this.participants.set(p.userId, p)
        this.opts.onChange()
        break
      case 'left':
        this.participants.delete(event.userId)
        this.opts.onChange()
        break
      case 'permissions':
        this.participant = event.participant
        this.permissions = event.permissions
        this.session = event.session
        this.lastReason = event.reason ?? null
        this.participants.set(event.participant.userId, { ...event.participant, cursor: this.participants.get(event.participant.userId)?.cursor ?? null })
        this.opts.onChange()
        this.#document?.event(event)
        break
      case 'session':
        this.session = event.session
        this.lastReason = event.reason ?? null
        this.opts.onChange()
        break
      case 'lecture':
        this.lecture = event.lecture
        if (this.spotlightText?.sessionId !== event.lecture.spotlight?.sessionId) this.spotlightText = null
        this.opts.onChange()
        break
      case 'spotlight-text':
        this.spotlightText = event
        break
      case 'error':
        this.error = { code: event.code, message: event.message, ...(event.retryAfterMs ? { retryAfterMs: event.retryAfterMs } : {}) }
        this.opts.onChange()
        break
      case 'token':
        if (!event.ok) this.error = { code: 'token_refresh', message: event.message ?? 'The token could not be refreshed.' }
        break
      case 'mode':
      case 'text':
      case 'splices':
      case 'ack':
        this.#document?.event(event)
        break
    }
    this.opts.onEvent?.(event)
    this.events.dispatchEvent(new ServerEventMessage(event))
  }

  #scheduleRefresh() {
    clearTimeout(this.#refreshTimer)
    const exp = tokenExpiry(this.#currentToken)
    if (exp === null || !this.opts.tokenProvider()) return
    const ms = Math.max(1000, (exp - REFRESH_AHEAD_S) * 1000 - Date.now())
    this.#refreshTimer = setTimeout(async () => {
      const fresh = await this.#resolveToken(true)
      if (fresh) this.send({ type: 'token', token: fresh })
      this.#scheduleRefresh()
    }, Math.min(ms, 2 ** 31 - 1))
  }

  #closed(code: number, reason: string) {
    if (this.#stopped) return
    clearTimeout(this.#refreshTimer)
    if (code === CloseCode.Unauthorized && this.opts.tokenProvider() && !this.#refreshedAfter401) {
      // One fresh token from the page, then give up.
      this.#refreshedAfter401 = true
      void this.#resolveToken(true).then(() => this.#open())
      return
    }
    const policy = retryPolicy(code)
    if (policy === 'never') {
      return this.#fail(this.error?.code ?? String(code), reason || this.error?.message || 'The server closed the connection.')
    }
    if (policy === 'now') {
      this.lastReason = reason || this.lastReason
      this.#set('connecting')
      void this.#open()
      return
    }
    if (code === CloseCode.NotOpenYet) {
      this.error = { code: 'not_open', message: reason || 'Waiting for the instructor to open this session.' }
      this.#set('waiting')
      this.#retryTimer = setTimeout(() => this.#open(), WAITING_RETRY_MS())
      return
    }
    this.#set('offline')
    // Over the edit allowance (4429 after a rate_limited error): the edits wait in the replica
    // until the server said to come back; reconnecting sooner would only be refused again.
    const wait = code === CloseCode.RateLimited && this.error?.retryAfterMs ? this.error.retryAfterMs : backoffDelay(this.#attempt++)
    this.#retryTimer = setTimeout(() => this.#open(), wait)
  }

  #reconnectNow() {
    const ws = this.#ws
    this.#ws = null
    ws?.close(1000, 'reconnecting with the document')
    this.#document?.closed()
    void this.#open()
  }

  #fail(code: string, message: string) {
    this.error = { code, message }
    this.#stopped = true
    this.#set('error')
  }

  #set(status: RoomStatus) {
    this.status = status
    this.opts.onChange()
  }
}
