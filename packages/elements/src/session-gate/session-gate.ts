import { html } from 'lit'
import { property } from 'lit/decorators.js'
import { isPermission, isRole, RULES, type Action, type Role } from '@session-kit/core'
import { PermissionController } from '../permission-controller.js'
import { SessionElement } from '../session-element.js'
import { styles } from './session-gate.styles.js'

const splitList = (value: string | undefined) => (value ?? '').split(/[\s,]+/).filter(Boolean)

/**
 * Shows its content only to participants allowed to see it: with a permission, in a role, or as
 * the session's owner — and the `fallback` slot to everyone else. It follows permission changes
 * live (a learner promoted to instructor sees the instructor tools at once). It only decides what
 * is shown: the server checks every action itself.
 *
 * ```html
 * <session-gate roles="instructor">…</session-gate>
 * <session-gate permission="CREATE_RECORDING">
 *   <session-recording></session-recording>
 *   <p slot="fallback">Only instructors can record.</p>
 * </session-gate>
 * ```
 *
 * @tag session-gate
 * @summary Show content by permission, role or ownership.
 *
 * @slot - Shown when every condition holds.
 * @slot fallback - Shown otherwise (and until the room is live).
 */
export class SessionGate extends SessionElement {
  /** @internal Lit styles. */
  static override styles = [SessionElement.baseStyles, styles]

  /** Permissions the participant must all hold, space-separated (e.g. `EDIT_CODE EXECUTE_CODE`, or `POST_CHAT`). */
  @property({ reflect: true }) permission?: string

  /**
   * Roles, any of which will do, space-separated (e.g. `instructor learner`). Prefer this over
   * `role`, which is also accepted but is ARIA's attribute (accessibility checkers flag it).
   */
  @property({ reflect: true }) roles?: string

  /** The same as `roles`, as the attribute `role="instructor learner"`. */
  @property({ attribute: 'role' }) roleAttribute?: string

  /** Only the session's owner. */
  @property({ type: Boolean, reflect: true }) owner = false

  #perms = new PermissionController(this)

  /** Whether the default slot is shown now. */
  get allowed(): boolean {
    const permission = splitList(this.permission).filter((p): p is Action => isPermission(p) || (RULES as readonly string[]).includes(p))
    const unknown = splitList(this.permission).length !== permission.length
    const role = splitList(this.roles ?? this.roleAttribute).filter((r): r is Role => isRole(r))
    // An unknown permission name is never satisfied (a typo must not open the gate).
    if (unknown) return false
    return this.#perms.allowed({ permission, role, owner: this.owner })
  }

  protected override render() {
    return this.allowed ? html`<slot></slot>` : html`<slot name="fallback"></slot>`
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'session-gate': SessionGate
  }
}
