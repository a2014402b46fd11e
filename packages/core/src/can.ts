import { Permission, PERMISSIONS, ROLE_PERMISSIONS, Rule, type Action } from './permissions.js'
import { effectiveRole, Role } from './roles.js'

/** Everything `can()` needs to know about who is asking and about the room. */
export interface PermissionContext {
  /** The effective role (the server's override already applied). */
  role: Role
  /** The asker's user id; needed for rules about one's own resources. */
  userId?: string
  /** Whether the asker owns the session. */
  owner?: boolean
  /** Whether an instructor muted the asker. The owner can never be muted. */
  muted?: boolean
  /** Whether an instructor locked learners' editing in the room. */
  editingLocked?: boolean
}

/** Who is asking, as either side knows them. */
export interface Asker {
  /** The role in their token, or (on a page) the effective role the server sent. */
  role: Role
  /** An instructor's override, stored by the server; wins over `role`. */
  roleOverride?: Role | null
  userId?: string
  /** Whether they own the session; worked out from the room's `ownerId` when not given. */
  owner?: boolean
  muted?: boolean
}

/** What `can()` needs to know about the room. */
export interface RoomSettings {
  ownerId?: string
  editingLocked?: boolean
}

/**
 * The one way a permission context is built: by the server from a token, the participant's row
 * and the session, and by the elements from the participant and session the server sent.
 */
export function permissionContext(asker: Asker, room: RoomSettings): PermissionContext {
  return {
    role: effectiveRole(asker.role, asker.roleOverride),
    userId: asker.userId,
    owner: asker.owner ?? (asker.userId !== undefined && room.ownerId === asker.userId),
    muted: asker.muted ?? false,
    editingLocked: room.editingLocked ?? false,
  }
}

/** A resource some rules look at: who created it. */
export interface OwnedResource {
  createdBy: string
}

/**
 * The one permission check shared by server and elements. Elements use it only to decide what to
 * render; the server checks every action itself with the same function.
 */
export function can(ctx: PermissionContext, action: Action, resource?: OwnedResource): boolean {
  const muted = Boolean(ctx.muted) && !ctx.owner
  switch (action) {
    case Permission.MANAGE_SESSION:
      return ctx.role === Role.Instructor && Boolean(ctx.owner)
    case Permission.EDIT_CODE:
      if (!ROLE_PERMISSIONS[ctx.role].has(action) || muted) return false
      return !(ctx.role === Role.Learner && ctx.editingLocked)
    case Permission.EXECUTE_CODE:
      return ROLE_PERMISSIONS[ctx.role].has(action) && !muted
    case Rule.POST_CHAT:
      return ctx.role !== Role.Observer && !muted
    case Rule.DELETE_SNAPSHOT:
      return ctx.role === Role.Instructor || (resource !== undefined && ctx.userId !== undefined && resource.createdBy === ctx.userId)
    case Rule.VIEW_OWN_ACTIVITY:
      return can(ctx, Permission.VIEW_CODE)
    case Rule.MANAGE_FILES:
      return ctx.role === Role.Instructor && can(ctx, Permission.EDIT_CODE)
    case Rule.MANAGE_INSTRUCTORS:
      return ctx.role === Role.Instructor && Boolean(ctx.owner)
    case Rule.LEAD_LECTURE:
      return ctx.role === Role.Instructor
    case Rule.RAISE_HAND:
      return can(ctx, Permission.VIEW_CODE)
    default:
      return ROLE_PERMISSIONS[ctx.role].has(action)
  }
}

/** The permissions a context holds, in the enum's order (what `welcome` carries). */
export function permissionsFor(ctx: PermissionContext): Permission[] {
  return PERMISSIONS.filter((p) => can(ctx, p))
}

/**
 * Whether `ctx` may see a snapshot: an instructor's is everyone's; a learner's is personal, seen by
 * its creator and instructors (the list, the snapshot itself and the room's `snapshot` events).
 */
export function maySeeSnapshot(ctx: PermissionContext, snapshot: { createdBy: string; creatorRole: Role }): boolean {
  return snapshot.creatorRole === Role.Instructor || ctx.role === Role.Instructor || (ctx.userId !== undefined && snapshot.createdBy === ctx.userId)
}

/**
 * Whether `ctx` sees what hidden test files hold, in verified runs: their tests' names and
 * messages, and what the run with them printed. Instructors only; learners and observers see
 * "Hidden test 1: passed".
 */
export function maySeeHiddenTests(ctx: PermissionContext): boolean {
  return ctx.role === Role.Instructor
}

/** Someone a moderation action is aimed at. */
export interface ParticipantTarget {
  userId: string
  /** Their effective role. */
  role: Role
  owner: boolean
}

/** What an instructor can do to someone in the room (each route also needs its own permission). */
export type ParticipantAction = 'mute' | 'remove' | 'hide' | 'change-role'

/**
 * Whether `ctx` may act on `target` this way, on top of the route's permission: nobody mutes,
 * removes or changes the role of the owner, and only the owner may hide themselves; acting on an
 * instructor, or making someone one (`newRole`), is for the owner alone (Rule.MANAGE_INSTRUCTORS).
 */
export function mayActOn(ctx: PermissionContext, target: ParticipantTarget, action: ParticipantAction, newRole?: Role): boolean {
  if (target.owner) return action === 'hide' && ctx.userId === target.userId
  if (target.role === Role.Instructor || newRole === Role.Instructor) return can(ctx, Rule.MANAGE_INSTRUCTORS)
  return true
}
