import { can, type OwnedResource, type PermissionContext } from './can.js'
import { Permission, Rule, type Action } from './permissions.js'
import { Role } from './roles.js'

/**
 * Why someone may not do something: they observe, an instructor muted them, an instructor locked
 * learners' editing, or their role does not hold the permission.
 */
export type RefusalReason = 'observer' | 'muted' | 'locked' | 'role'

/** A refusal as the person affected reads it: a stable `code` and a sentence they can act on. */
export interface WhyNot {
  code: RefusalReason
  message: string
}

/** The sentence for an action someone's role lacks (also what a refused HTTP route says). */
export function needsPermission(action: Action | string): string {
  return `This needs the ${action} permission, which your role in this session does not have.`
}

/** One sentence per reason for the actions people meet in the room; others fall back to the role's. */
const SENTENCES: Partial<Record<Action, Partial<Record<RefusalReason, string>>>> = {
  [Permission.EDIT_CODE]: {
    observer: 'You are observing: you can follow the code but not edit it.',
    muted: 'The instructor muted you: you can read the code but not edit or run it, nor post in the chat, until you are unmuted.',
    locked: 'The instructor has locked editing for learners for now.',
    role: 'You do not have permission to edit the code.',
  },
  [Permission.EXECUTE_CODE]: {
    observer: 'Observers can watch the code but not run it.',
    muted: 'You are muted by the instructor, so you cannot run code.',
    role: 'Your role cannot run code in this session.',
  },
  [Rule.POST_CHAT]: {
    observer: 'Observers can read the chat but not post.',
    muted: 'You are muted by the instructor, so you can read the chat but not post.',
  },
  [Rule.LEAD_LECTURE]: {
    observer: 'Observers follow the lecture but do not lead it: only instructors turn on follow me, spotlight someone or lower others’ hands.',
    role: 'Only instructors lead the lecture: turning on follow me, spotlighting someone and lowering others’ hands are theirs to do.',
  },
  [Rule.RAISE_HAND]: {
    role: 'Your role cannot raise a hand in this session.',
  },
}

/**
 * Why `ctx` may not take `action`, or null when `can()` allows it. The one place the reasons and
 * their sentences are decided: the server sends them with a refusal, the elements show them before
 * anyone tries.
 */
export function whyNot(ctx: PermissionContext, action: Action, resource?: OwnedResource): WhyNot | null {
  if (can(ctx, action, resource)) return null
  const code = reasonFor(ctx, action, resource)
  return { code, message: SENTENCES[action]?.[code] ?? needsPermission(action) }
}

function reasonFor(ctx: PermissionContext, action: Action, resource?: OwnedResource): RefusalReason {
  if (ctx.role === Role.Observer) return 'observer'
  if (!can({ ...ctx, muted: false, editingLocked: false }, action, resource)) return 'role'
  // Only a mute or a lock stands in the way; a mute says more (the owner can never be muted).
  return ctx.muted && !ctx.owner ? 'muted' : 'locked'
}
