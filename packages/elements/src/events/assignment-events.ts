// The assignment elements' events: apart from events.ts so that pages without these elements
// share the other events' code exactly as before.

/**
 * Fired (cancelable) by `<session-classroom>` when the instructor opens a learner's room. The
 * host may show the room its own way (`preventDefault()`, then a `<session-room>` with `sessionId`
 * and `token`); otherwise the overview opens it in a dialog with a full editor.
 */
export class SessionOpenRoomEvent extends Event {
  static readonly type = 'session-open-room'
  constructor(
    readonly sessionId: string,
    readonly token: string,
    readonly learner: { userId: string; name: string },
  ) {
    super(SessionOpenRoomEvent.type, { bubbles: true, composed: true, cancelable: true })
  }
}

/** Fired by `<session-assignment>` when the learner's submission was recorded. */
export class SessionSubmitEvent extends Event {
  static readonly type = 'session-submit'
  constructor(
    readonly sessionId: string,
    readonly submittedAt: string,
    /** Whether editing is now locked for them (the assignment's submit policy). */
    readonly locked: boolean,
  ) {
    super(SessionSubmitEvent.type, { bubbles: true, composed: true })
  }
}

declare global {
  interface HTMLElementEventMap {
    'session-open-room': SessionOpenRoomEvent
    'session-submit': SessionSubmitEvent
  }
}
