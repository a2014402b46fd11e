import { property } from 'lit/decorators.js'
import { ParticipantList } from '../internal/participant-list.js'
import { handQueueStyles, participantListStyles } from '../internal/participant-list.styles.js'
import { SessionElement } from '../session-element.js'
import { statusStyles } from '../shared-styles.js'
import { styles } from './session-participants.styles.js'

/** A participant as `GET …/participants` returns them: the contract lives in core. */
export type { ParticipantEntry } from '@session-kit/core'

/**
 * Who is in the session: presence (online now, last seen), role badges, avatars or initials, and
 * a statistics strip (online / total, per role, muted). Learners and observers do not see
 * participants an instructor has hidden. The list of everyone who ever joined is fetched once per
 * connection; who is here, their role and whether they are muted follow the room live, without
 * asking the server again.
 *
 * @tag session-participants
 * @summary The participant list with presence.
 *
 * @csspart stats - The statistics strip.
 * @csspart list - The list of participants.
 * @csspart participant - One participant.
 * @csspart hands - Instructors: the raised hands, oldest first, with each question and the time waiting.
 * @csspart hand - One raised hand, with its "Lower" button.
 * @csspart lower-all - Instructors: "Lower all hands".
 * @csspart spotlight-button - Instructors: "Spotlight" (show everyone this person's code) or "End spotlight".
 * @csspart avatar - A participant's avatar or initials.
 * @csspart badge - A role badge.
 *
 * @cssprop --session-color-instructor - Colour of the instructor badge.
 * @cssprop --session-color-learner - Colour of the learner badge.
 * @cssprop --session-color-success - The "online" dot.
 */
export class SessionParticipants extends SessionElement {
  /** @internal Lit styles. */
  static override styles = [SessionElement.baseStyles, styles, participantListStyles, handQueueStyles, statusStyles]

  @property({ reflect: true }) theme?: 'light' | 'dark'

  readonly #list = new ParticipantList(this)

  /** Reload the list from the server (debounced): those not here now, when they were last seen, bans. */
  refresh(delay = 250) {
    this.#list.refresh(delay)
  }

  protected override render(): unknown {
    return this.#list.render()
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'session-participants': SessionParticipants
  }
}
