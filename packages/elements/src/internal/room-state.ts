import { can, type Action, type OwnedResource, type ParticipantInfo, type Permission, type PresenceInfo, type SessionInfo } from '@session-kit/core'
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
    readonly error: { code: string; message: string } | null,
    readonly doc: DocSync | null,
  ) {}

  /** Whether the current participant may do something (rendering only; the server decides). */
  can(action: Action, resource?: OwnedResource): boolean {
    if (!this.participant || !this.session) return false
    return can(
      { role: this.participant.role, userId: this.participant.userId, owner: this.participant.owner, muted: this.participant.muted, editingLocked: this.session.editingLocked },
      action,
      resource,
    )
  }
}
