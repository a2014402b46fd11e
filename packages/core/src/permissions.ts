import { Role } from './roles.js'

/**
 * Every permission an element or route can ask about. Exactly these fifteen; the names are the
 * seed's and stay, though one misleads:
 * - `REMOVE_PARTICIPANTS` does not remove anyone. It guards changing someone's role and hiding or
 *   showing them (`PATCH …/participants/:uid`).
 * - Removing someone (with a ban) and lifting the ban is `KICK_PARTICIPANT`
 *   (`POST …/participants/:uid/kick` and `…/unban`).
 * - Muting, and locking learners' editing, is `MUTE_PARTICIPANT`.
 */
export enum Permission {
  EDIT_CODE = 'EDIT_CODE',
  VIEW_CODE = 'VIEW_CODE',
  EXECUTE_CODE = 'EXECUTE_CODE',
  MANAGE_SESSION = 'MANAGE_SESSION',
  INVITE_PARTICIPANTS = 'INVITE_PARTICIPANTS',
  REMOVE_PARTICIPANTS = 'REMOVE_PARTICIPANTS',
  CREATE_RECORDING = 'CREATE_RECORDING',
  MANAGE_RECORDINGS = 'MANAGE_RECORDINGS',
  CREATE_SNAPSHOT = 'CREATE_SNAPSHOT',
  RESTORE_SNAPSHOT = 'RESTORE_SNAPSHOT',
  MUTE_PARTICIPANT = 'MUTE_PARTICIPANT',
  KICK_PARTICIPANT = 'KICK_PARTICIPANT',
  MODERATE_CHAT = 'MODERATE_CHAT',
  VIEW_ANALYTICS = 'VIEW_ANALYTICS',
  EXPORT_DATA = 'EXPORT_DATA',
}

export const PERMISSIONS: readonly Permission[] = Object.values(Permission)

export function isPermission(value: unknown): value is Permission {
  return typeof value === 'string' && (PERMISSIONS as readonly string[]).includes(value)
}

/** Rules beyond the fifteen permissions, decided by the same `can()`. */
export enum Rule {
  /** Post a chat message: everyone but observers and muted participants. */
  POST_CHAT = 'POST_CHAT',
  /** Delete a snapshot: its creator or an instructor. */
  DELETE_SNAPSHOT = 'DELETE_SNAPSHOT',
  /** See one's own activity counts (`…/analytics/me`): everyone who can view the code. */
  VIEW_OWN_ACTIVITY = 'VIEW_OWN_ACTIVITY',
  /** Add, rename or delete files: instructors who may edit. */
  MANAGE_FILES = 'MANAGE_FILES',
  /**
   * Mute, remove, hide or change the role of another instructor, or make someone an instructor:
   * the session's owner only (other instructors moderate learners and observers).
   */
  MANAGE_INSTRUCTORS = 'MANAGE_INSTRUCTORS',
  /** Lead a lecture: turn "follow me" on or off, spotlight someone, lower others' hands: instructors. */
  LEAD_LECTURE = 'LEAD_LECTURE',
  /** Raise or lower one's own hand: everyone who can view the code (a muted learner too: it is how they ask). */
  RAISE_HAND = 'RAISE_HAND',
}

export const RULES: readonly Rule[] = Object.values(Rule)

export type Action = Permission | Rule

/**
 * The role → permission matrix before modifiers (ownership, mute, lock). MANAGE_SESSION is listed
 * for instructors but only granted to the owner.
 */
export const ROLE_PERMISSIONS: Readonly<Record<Role, ReadonlySet<Permission>>> = {
  instructor: new Set(PERMISSIONS),
  learner: new Set([
    Permission.VIEW_CODE,
    Permission.EDIT_CODE,
    Permission.EXECUTE_CODE,
    Permission.CREATE_SNAPSHOT,
  ]),
  observer: new Set([Permission.VIEW_CODE]),
}
