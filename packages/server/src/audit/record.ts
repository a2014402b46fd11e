import type { Context } from 'hono'
import { AUDIT_ACTIONS, type AuditAction, type AuditActorRole, type AuditVia } from '@session-kit/core/api'
import { clientAddress } from '../http/address.js'
import type { AppEnv, RoomCaller } from '../http/context.js'
import type { Sql, Tx } from '../store/db.js'

/*
 * The audit log (table audit_log, migration 013): every moderation, permission, deletion, erasure
 * and retention action, appended with who acted, on whom or what, in which session, when, and from
 * where. An action with a transaction records inside it (the entry exists exactly when the action
 * does); any other records right after it succeeded. A refused or failed action records nothing.
 *
 * Entries hold ids, roles, flags and counts — never text someone typed — and people only as actor
 * or target, so erasing someone (`forgetInAudit`) reaches everything the log says about them.
 */

export { AUDIT_ACTIONS, type AuditAction, type AuditActorRole, type AuditVia }

/** Who acted: a user id with their role in the room, or (id null) the host or the server. */
export interface AuditActor {
  id: string | null
  role: AuditActorRole
}

/** Where the action came from: the client's address and user agent, and the door it used. */
export interface AuditOrigin {
  ip: string | null
  userAgent: string | null
  via: AuditVia
}

export interface AuditRecord {
  action: AuditAction
  actor: AuditActor
  origin: AuditOrigin
  /** The person acted on (a user id), or the resource's id; none for the session itself. */
  targetId?: string | null
  sessionId?: string | null
  assignmentId?: string | null
  /** Ids, roles, flags and counts only: no names, titles, messages or addresses. */
  details?: Record<string, unknown>
  /** Defaults to the database's time (what every instance agrees on). */
  at?: Date
}

/** The host: the API key's holder, or an operator at the command line. */
export const HOST_ACTOR: AuditActor = { id: null, role: 'host' }
/** The server itself (a background job: retention, say). */
export const SYSTEM_ACTOR: AuditActor = { id: null, role: 'system' }
export const CLI_ORIGIN: AuditOrigin = { ip: null, userAgent: null, via: 'cli' }
export const JOB_ORIGIN: AuditOrigin = { ip: null, userAgent: null, via: 'job' }

/** A header is the client's to write: kept, but not at any length. */
const clip = (text: string | null | undefined, max: number) => (text ? text.slice(0, max) : null)

/** Append one entry (inside the action's transaction when given one). */
export function recordAction(sql: Sql | Tx, entry: AuditRecord): Promise<void> {
  return recordActions(sql, [entry])
}

/** Append several entries in one statement, in order (mute-all: one entry per person muted). */
export async function recordActions(sql: Sql | Tx, entries: AuditRecord[]): Promise<void> {
  if (!entries.length) return
  const rows = entries.map((e) => {
    if (!(AUDIT_ACTIONS as readonly string[]).includes(e.action)) throw new Error(`unknown audit action "${e.action}"`)
    return {
      at: e.at?.toISOString() ?? null,
      action: e.action,
      actor_id: e.actor.id,
      actor_role: e.actor.role,
      target_id: e.targetId ?? null,
      session_id: e.sessionId ?? null,
      assignment_id: e.assignmentId ?? null,
      details: e.details ?? {},
      origin: { ip: clip(e.origin.ip, 100), userAgent: clip(e.origin.userAgent, 512), via: e.origin.via },
    }
  })
  const q = sql as Sql
  await q`
    insert into audit_log (at, action, actor_id, actor_role, target_id, session_id, assignment_id, details, origin)
    select coalesce((e->>'at')::timestamptz, now()), e->>'action', e->>'actor_id', e->>'actor_role', e->>'target_id',
      e->>'session_id', e->>'assignment_id', e->'details', e->'origin'
    from jsonb_array_elements(${q.json(rows as never)}) with ordinality as t(e, n)
    order by n`
}

/**
 * Erasure: every entry naming `userId` as actor or target names a former participant instead (the
 * same placeholder throughout, returned for the erasure's own entry). The one way to change an
 * entry: the table refuses any other update (see migration 013).
 */
export async function forgetInAudit(sql: Sql | Tx, userId: string): Promise<string> {
  const [row] = await (sql as Sql)<{ placeholder: string }[]>`select audit_forget(${userId}) as placeholder`
  return row!.placeholder
}

/** Retention: delete the entries older than `before`; how many went. The one way to delete entries. */
export async function expireAudit(sql: Sql | Tx, before: Date): Promise<number> {
  const [row] = await (sql as Sql)<{ gone: number }[]>`select audit_expire(${before}) as gone`
  return row!.gone
}

// ---- from a request --------------------------------------------------------------------------

/** An HTTP request's origin: the address as the server resolves it (see http/address.ts) and the user agent. */
export function httpOrigin(c: Context<AppEnv>): AuditOrigin {
  return { ip: clientAddress(c, c.var.services.config.trustProxy), userAgent: c.req.header('user-agent') ?? null, via: 'http' }
}

/** Someone in a room, by their role there now. */
export const roomActor = (caller: Pick<RoomCaller, 'claims' | 'ctx'>): AuditActor => ({ id: caller.claims.sub, role: caller.ctx.role })

/** Actor, origin and session of a room route's request (after `roomAuth`). */
export function roomAudit(c: Context<AppEnv>): Pick<AuditRecord, 'actor' | 'origin' | 'sessionId'> {
  const { caller } = c.var
  return { actor: roomActor(caller), origin: httpOrigin(c), sessionId: caller.session.id }
}

/** Actor and origin of a host route's request (after `requireApiKey`). */
export function hostAudit(c: Context<AppEnv>): Pick<AuditRecord, 'actor' | 'origin'> {
  return { actor: HOST_ACTOR, origin: httpOrigin(c) }
}
