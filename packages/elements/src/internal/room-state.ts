import { can, type Action, type OwnedResource, type ParticipantInfo, type Permission, type PermissionContext, type PresenceInfo, type SessionInfo } from '@session-kit/core'
import type { DocSync } from './doc-sync.js'
import type { RoomClient } from './room-client.js'

export type RoomStatus = 'idle' | 'connecting' | 'live' | 'offline' | 'waiting' | 'error'

/**
 * An immutable view of a room, replaced on every change so Lit consumers re-render. Heavy, live
 * objects (the client, the document) are shared references.
 */
export class RoomState {
  constructor(
    readonly client: RoomClient,
    readonly status: RoomStatus,
    readonly participant: ParticipantInfo | null,
    readonly permissions: readonly Permission[],
    readonly session: SessionInfo | null,
    readonly participants: readonly PresenceInfo[],
    readonly error: { code: string; message: string; retryAfterMs?: number } | null,
    readonly doc: DocSync | null,
  ) {}

  /** The current participant as core's permission context; null before the welcome. */
  get context(): PermissionContext | null {
    if (!this.participant || !this.session) return null
    return { role: this.participant.role, userId: this.participant.userId, owner: this.participant.owner, muted: this.participant.muted, editingLocked: this.session.editingLocked }
  }

  /** Whether the current participant may do something (rendering only; the server decides). */
  can(action: Action, resource?: OwnedResource): boolean {
    const ctx = this.context
    return ctx !== null && can(ctx, action, resource)
  }
}
