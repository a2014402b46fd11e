import type { ReactiveControllerHost } from 'lit'
import type { Action, Role } from '@session-kit/core'
import { RoomController } from './room-controller.js'
import type { RoomState } from './room-state.js'

/** What a gate asks for. Every condition given must hold. */
export interface GateRule {
  /** Permissions (or rules such as POST_CHAT) the participant must all hold. */
  permission?: Action | Action[]
  /** Effective roles, any of which will do. */
  role?: Role | Role[]
  /** Only the session's owner. */
  owner?: boolean
}

/** Whether a room state satisfies a rule (false until the room is live). */
export function allowed(state: RoomState | undefined, rule: GateRule): boolean {
  if (!state?.participant || !state.session) return false
  const permissions = rule.permission === undefined ? [] : Array.isArray(rule.permission) ? rule.permission : [rule.permission]
  const roles = rule.role === undefined ? [] : Array.isArray(rule.role) ? rule.role : [rule.role]
  if (permissions.some((p) => !state.can(p))) return false
  if (roles.length && !roles.includes(state.participant.role)) return false
  if (rule.owner && !state.participant.owner) return false
  return true
}

/**
 * For your own Lit elements: re-renders the host when permissions change.
 *
 * ```ts
 * class MyToolbar extends LitElement {
 *   #perms = new PermissionController(this)
 *   render() {
 *     return this.#perms.allowed({ permission: 'CREATE_RECORDING' }) ? html`<button>Record</button>` : nothing
 *   }
 * }
 * ```
 */
export class PermissionController extends RoomController {
  constructor(host: ReactiveControllerHost & HTMLElement) {
    super(host)
  }

  allowed(rule: GateRule): boolean {
    return allowed(this.state, rule)
  }
}
