import { can, NO_LECTURE, permissionContext, type Action, type LectureState, type OwnedResource, type ParticipantInfo, type Permission, type PermissionContext, type SessionInfo } from '@session-kit/core'
import type { DocSync } from './internal/doc-sync.js'
import type { RoomClient } from './internal/room-client.js'
import type { TextSource } from './text-source.js'

export type RoomStatus = 'idle' | 'connecting' | 'live' | 'offline' | 'waiting' | 'error'

export type RoomError = { code: string; message: string; retryAfterMs?: number }

/**
 * An immutable view of a room, replaced only when something in it changed, so Lit consumers
 * re-render when there is something new to show — not on every keystroke or cursor move. Heavy,
 * live objects (the client, the document) are shared references; what stays the same between two
 * states is the same object, so `state.session !== previous.session` says the session changed.
 */
export class RoomState {
  constructor(
    readonly client: RoomClient,
    readonly status: RoomStatus,
    readonly participant: ParticipantInfo | null,
    readonly permissions: readonly Permission[],
    readonly session: SessionInfo | null,
    /**
     * Who is here now: names, roles, colours, mute and visibility. Cursors are not part of the
     * room's state (they move too often); `client.participants` holds them live and the `presence`
     * and `presences` events on `client.events` say when they moved.
     */
    readonly participants: readonly ParticipantInfo[],
    readonly error: RoomError | null,
    /** The Automerge replica, for those who may edit. */
    readonly doc: DocSync | null,
    /** What editors show: the replica or a light view (see `TextSource`). */
    readonly source: TextSource | null = null,
    /** Lecture mode: who leads, raised hands (all for instructors, one's own otherwise), the spotlight. */
    readonly lecture: LectureState = NO_LECTURE,
  ) {}

  /**
   * The state of `client` now: `previous` itself when nothing a consumer sees changed, else a new
   * state that keeps every unchanged part of `previous` by reference.
   */
  static of(client: RoomClient, previous: RoomState | undefined, overrides: { status?: RoomStatus; error?: RoomError | null } = {}): RoomState {
    const p = previous?.client === client ? previous : undefined
    const status = overrides.status ?? client.status
    const error = same(p?.error, overrides.error ?? client.error, sameError)
    const participant = same(p?.participant, client.participant, sameParticipant)
    const permissions = same(p?.permissions, client.permissions, sameList)
    const session = same(p?.session, client.session, sameFields)
    const participants = same(p?.participants, [...client.participants.values()], sameRoster)
    const doc = client.doc
    const source = client.source
    // Sent whole after every change, and small: equal when it reads the same.
    const lecture = same(p?.lecture, client.lecture, (a, b) => JSON.stringify(a) === JSON.stringify(b))
    if (p && p.status === status && p.error === error && p.participant === participant && p.permissions === permissions && p.session === session && p.participants === participants && p.doc === doc && p.source === source && p.lecture === lecture) return p
    return new RoomState(client, status, participant, permissions, session, participants, error, doc, source, lecture)
  }

  /** The current participant as core's permission context; null before the welcome. */
  get context(): PermissionContext | null {
    if (!this.participant || !this.session) return null
    return permissionContext(this.participant, this.session)
  }

  /** Whether the current participant may do something (rendering only; the server decides). */
  can(action: Action, resource?: OwnedResource): boolean {
    const ctx = this.context
    return ctx !== null && can(ctx, action, resource)
  }
}

/** `before` when it equals `now` by `eq`, else `now`: equal values keep their identity. */
function same<T>(before: T | undefined, now: T, eq: (a: NonNullable<T>, b: NonNullable<T>) => boolean): T {
  if (before === undefined) return now
  if (before === now) return before
  if (before === null || now === null) return now
  return eq(before as NonNullable<T>, now as NonNullable<T>) ? before : now
}

function sameFields(a: object, b: object): boolean {
  const ka = Object.keys(a)
  if (ka.length !== Object.keys(b).length) return false
  return ka.every((k) => (a as Record<string, unknown>)[k] === (b as Record<string, unknown>)[k])
}

function sameError(a: RoomError, b: RoomError): boolean {
  return a.code === b.code && a.message === b.message && a.retryAfterMs === b.retryAfterMs
}

function sameList(a: readonly unknown[], b: readonly unknown[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i])
}

/** Everything of a participant but where their cursor is. */
function sameParticipant(a: ParticipantInfo, b: ParticipantInfo): boolean {
  return (
    a.userId === b.userId && a.name === b.name && a.role === b.role && a.color === b.color && a.owner === b.owner && a.muted === b.muted && a.avatar === b.avatar && a.hidden === b.hidden
  )
}

function sameRoster(a: readonly ParticipantInfo[], b: readonly ParticipantInfo[]): boolean {
  return a.length === b.length && a.every((x, i) => sameParticipant(x, b[i]!))
}
