import type { ParticipantInfo, Permission } from '@session-kit/core'
import type { RoomStatus } from '../room-state.js'
import type { RunResult } from '../runners.js'

/** Fired by `<session-room>` when its connection status changes. */
export class SessionStatusEvent extends Event {
  static readonly type = 'session-status'
  constructor(
    readonly status: RoomStatus,
    readonly reason: string | null,
  ) {
    super(SessionStatusEvent.type, { bubbles: true, composed: true })
  }
}

/** Fired by `<session-room>` when the server changes what the participant may do. */
export class SessionPermissionsChangedEvent extends Event {
  static readonly type = 'session-permissions-changed'
  constructor(
    readonly permissions: readonly Permission[],
    readonly participant: ParticipantInfo | null,
    readonly reason: string | null,
  ) {
    super(SessionPermissionsChangedEvent.type, { bubbles: true, composed: true })
  }
}

/** Fired by `<session-room>` when the server reports an error (bad token, refused write …). */
export class SessionErrorEvent extends Event {
  static readonly type = 'session-error'
  constructor(
    readonly code: string,
    readonly message: string,
  ) {
    super(SessionErrorEvent.type, { bubbles: true, composed: true })
  }
}

/** Fired by `<session-editor>` after the participant changes the code locally. */
export class SessionChangeEvent extends Event {
  static readonly type = 'session-change'
  constructor(
    readonly file: string,
    readonly value: string,
  ) {
    super(SessionChangeEvent.type, { bubbles: true, composed: true })
  }
}

/** Fired by `<session-runner>` when a run finishes. */
export class SessionRunEvent extends Event {
  static readonly type = 'session-run'
  constructor(
    readonly file: string,
    readonly result: RunResult,
  ) {
    super(SessionRunEvent.type, { bubbles: true, composed: true })
  }
}

/**
 * Fired (cancelable) by `<session-snapshots>` before a snapshot replaces everyone's code. Call
 * `preventDefault()` to stop the restore.
 */
export class SessionBeforeRestoreEvent extends Event {
  static readonly type = 'session-before-restore'
  constructor(readonly snapshot: { id: string; title: string; createdBy: string; creatorName: string }) {
    super(SessionBeforeRestoreEvent.type, { bubbles: true, composed: true, cancelable: true })
  }
}

/** Fired by `<session-player>` when the code shown matches a new position. */
export class SessionSeekEvent extends Event {
  static readonly type = 'session-seek'
  constructor(
    readonly t: number,
    readonly renderMs: number,
  ) {
    super(SessionSeekEvent.type, { bubbles: true, composed: true })
  }
}

declare global {
  interface HTMLElementEventMap {
    'session-status': SessionStatusEvent
    'session-permissions-changed': SessionPermissionsChangedEvent
    'session-error': SessionErrorEvent
    'session-change': SessionChangeEvent
    'session-run': SessionRunEvent
    'session-before-restore': SessionBeforeRestoreEvent
    'session-seek': SessionSeekEvent
  }
}
