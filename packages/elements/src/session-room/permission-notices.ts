import type { ReactiveController, ReactiveControllerHost } from 'lit'

/** How long a reason for a change that holds no longer ("Editing unlocked by Ada.") stays in the bar. */
const PASSING_NOTICE_MS = 5000

/**
 * Why your permissions changed, as the room bar says it: a lock or a mute ("You were muted by
 * Ada.") for as long as it lasts, anything else ("Editing unlocked by Ada.") for a few seconds.
 */
export class PermissionNotices implements ReactiveController {
  #locked = ''
  #muted = ''
  #passing = ''
  #timer?: ReturnType<typeof setTimeout>

  constructor(private readonly host: ReactiveControllerHost) {
    host.addController(this)
  }

  /** The notices in force, in one line. */
  get text(): string {
    return [this.#locked, this.#muted, this.#passing].filter(Boolean).join(' ')
  }

  /** A change with a reason: held while the lock or mute it began lasts, else for a moment. */
  said(reason: string, began: { locked: boolean; muted: boolean }) {
    if (began.locked) this.#locked = reason
    else if (began.muted) this.#muted = reason
    else {
      this.#passing = reason
      clearTimeout(this.#timer)
      this.#timer = setTimeout(() => {
        this.#passing = ''
        this.host.requestUpdate()
      }, PASSING_NOTICE_MS)
    }
    this.host.requestUpdate()
  }

  /** A lock or a mute explained is explained no longer once it is over. */
  holds(locked: boolean, muted: boolean) {
    if ((this.#locked && !locked) || (this.#muted && !muted)) {
      if (!locked) this.#locked = ''
      if (!muted) this.#muted = ''
      this.host.requestUpdate()
    }
  }

  hostDisconnected() {
    clearTimeout(this.#timer)
  }
}
