import { NO_LECTURE, type LectureState, type PresenceInfo, type Role, type ServerEvent } from '@session-kit/core'

/** The address rooms in tests give a fake server. */
export const FAKE_SERVER = 'http://127.0.0.1:1'

/** A token a fake room accepts: its claims readable by the page, no signature checked. */
export function fakeToken(sub: string, role: Role, sid = 'fake'): string {
  return `x.${btoa(JSON.stringify({ sub, role, sid, name: sub })).replace(/=+$/, '')}.x`
}

/** A host's token for an assignment (no `sid`), readable by the page like `fakeToken`. */
export function fakeAssignmentToken(sub: string, role: Role, assignment: string): string {
  return `x.${btoa(JSON.stringify({ sub, role, assignment, name: sub, exp: Math.floor(Date.now() / 1000) + 3600 })).replace(/=+$/, '')}.x`
}

export const person = (userId: string, role: Role, extra: Partial<PresenceInfo> = {}): PresenceInfo => ({
  userId,
  name: userId[0]!.toUpperCase() + userId.slice(1),
  role,
  color: '#0f766e',
  owner: false,
  muted: false,
  cursor: null,
  ...extra,
})

/**
 * A room server in the page: `WebSocket` is replaced while it is installed, each socket a room
 * opens is answered with a welcome (a light view of `files` when the hello asks for the document),
 * and the test pushes server events and reads what the page sent.
 */
export class FakeRoomServer {
  readonly sent: Record<string, unknown>[] = []
  readonly sockets: FakeSocket[] = []
  #real = globalThis.WebSocket
  #fetch = globalThis.fetch

  constructor(
    public me: PresenceInfo,
    public files: Record<string, string> = { 'main.py': '' },
    public lecture: LectureState = NO_LECTURE,
    public others: PresenceInfo[] = [],
  ) {
    const server = this
    class Socket extends FakeSocket {
      constructor(url: string) {
        super(url, server)
        server.sockets.push(this)
      }
    }
    Object.assign(Socket, { CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3 })
    globalThis.WebSocket = Socket as unknown as typeof WebSocket
    // Its HTTP API: the participant list (everyone here); anything else is not found.
    globalThis.fetch = async (input, init) => {
      const url = String(input instanceof Request ? input.url : input)
      if (!url.startsWith(FAKE_SERVER)) return this.#fetch(input, init)
      if (url.endsWith('/participants')) {
        const participants = [this.me, ...this.others].map((p) => ({ ...p, avatar: null, hidden: false, tokenRole: p.role, online: true, lastSeenAt: null, banned: false }))
        return Response.json({ participants })
      }
      return Response.json({ error: { code: 'not_found', message: 'Not here.' } }, { status: 404 })
    }
  }

  /** Send an event to every open socket. */
  push(event: ServerEvent) {
    // What a reconnecting page is welcomed with, as a real server keeps it.
    if (event.type === 'lecture') this.lecture = event.lecture
    for (const s of this.sockets) if (s.readyState === 1) s.receive(event)
  }

  /** Close the open sockets as a network drop would (the page reconnects). */
  drop() {
    for (const s of this.sockets) if (s.readyState === 1) s.close(1006, '')
  }

  restore() {
    globalThis.WebSocket = this.#real
    globalThis.fetch = this.#fetch
  }

  welcome(socket: FakeSocket, hello: { mode?: string }) {
    const view = hello.mode === 'full' || hello.mode === 'view'
    const mode = view ? 'view' : 'events'
    socket.receive({
      type: 'welcome',
      protocol: 2,
      mode,
      participant: this.me,
      permissions: this.me.role === 'observer' ? ['VIEW_CODE'] : ['VIEW_CODE', 'EDIT_CODE'],
      session: { id: 'fake', title: 'Lecture', language: 'python', editingLocked: false, recording: false, recordingState: 'off' },
      participants: [this.me, ...this.others],
      lecture: this.lecture,
    } as ServerEvent)
    if (view) socket.receive({ type: 'text', files: this.files, heads: [] })
  }
}

export class FakeSocket extends EventTarget {
  readyState = 0
  binaryType = 'arraybuffer'
  onopen: ((e: Event) => void) | null = null
  onmessage: ((e: MessageEvent) => void) | null = null
  onclose: ((e: CloseEvent) => void) | null = null
  onerror: ((e: Event) => void) | null = null

  constructor(
    readonly url: string,
    private readonly server: FakeRoomServer,
  ) {
    super()
    setTimeout(() => {
      this.readyState = 1
      this.onopen?.(new Event('open'))
    }, 0)
  }

  send(data: string | Uint8Array) {
    if (typeof data !== 'string') return
    const event = JSON.parse(data) as Record<string, unknown>
    if (event.type === 'hello') return setTimeout(() => this.server.welcome(this, event as { mode?: string }), 0)
    this.server.sent.push(event)
  }

  receive(event: ServerEvent) {
    this.onmessage?.(new MessageEvent('message', { data: JSON.stringify(event) }))
  }

  close(code = 1000, reason = '') {
    if (this.readyState === 3) return
    this.readyState = 3
    this.onclose?.(new CloseEvent('close', { code, reason }))
  }
}
