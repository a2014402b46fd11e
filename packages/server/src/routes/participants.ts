import { Hono, type Context } from 'hono'
import * as v from 'valibot'
import { colorFor, effectiveRole, mayActOn, Permission, ROLES, Role, Rule, type ParticipantAction, type ParticipantEntry, type ParticipantList, type Role as RoleT } from '@session-kit/core'
import { recordAction, recordActions, roomAudit } from '../audit/record.js'
import { requirePermission, roomAuth } from '../http/auth.js'
import type { AppEnv, RoomCaller } from '../http/context.js'
import { AppError } from '../errors.js'
import { badRequest, forbidden, notFound } from '../http/errors.js'
import { body, KeySchema, pathParam } from '../http/validate.js'
import type { Sql } from '../store/db.js'
import { ban, bannedUserIds, getParticipant, listParticipants, setMutedForAll, unban, updateParticipant, type ParticipantRow } from '../store/participants.js'
import { onlineUsers } from '../store/presence.js'
import { writeWithEvent } from '../webhooks/events.js'

const PatchParticipant = v.pipe(
  v.object({ role: v.optional(v.picklist(ROLES, `role must be one of ${ROLES.join(', ')}`)), hidden: v.optional(v.boolean('hidden must be true or false')) }),
  v.check((p) => p.role !== undefined || p.hidden !== undefined, 'send a role or hidden to change'),
)

/** A participant as the API shows them. */
export function participantJson(p: ParticipantRow, ownerId: string, online: boolean, banned = false): ParticipantEntry {
  return {
    userId: p.userId,
    name: p.name,
    role: effectiveRole(p.tokenRole, p.roleOverride),
    tokenRole: p.tokenRole,
    color: colorFor(p.userId),
    avatar: p.avatar,
    owner: p.userId === ownerId,
    online,
    lastSeenAt: p.lastSeenAt?.toISOString() ?? null,
    muted: p.muted,
    hidden: p.hidden,
    banned,
  }
}

async function present(sql: Sql, caller: RoomCaller, row: ParticipantRow) {
  return participantJson(row, caller.session.ownerId, (await onlineUsers(sql, caller.session.id)).has(row.userId))
}

const VERB: Record<ParticipantAction, string> = { mute: 'mute', remove: 'remove', hide: 'hide', 'change-role': 'change the role of' }

/** The participant a moderation route acts on, once core's `mayActOn` allows it. */
async function target(c: Context<AppEnv>, caller: RoomCaller, sql: Sql, action: ParticipantAction, newRole?: RoleT): Promise<ParticipantRow> {
  const uid = pathParam(c, 'uid', KeySchema, () => notFound(`Nobody with that user id has joined this session.`, 'participant_not_found'))
  const row = await getParticipant(sql, caller.session.id, uid)
  if (!row) throw notFound(`Nobody with user id "${uid}" has joined this session.`, 'participant_not_found')
  if (action === 'remove' && uid === caller.claims.sub) throw badRequest('You cannot remove yourself from the session.', 'cannot_remove_self')
  const who = { userId: uid, role: effectiveRole(row.tokenRole, row.roleOverride), owner: uid === caller.session.ownerId }
  if (!mayActOn(caller.ctx, who, action, newRole)) {
    if (who.owner) throw new AppError(403, 'owner_protected', action === 'hide' ? 'Only the session owner can hide themselves.' : `Nobody can ${VERB[action]} the session owner.`)
    throw forbidden(Rule.MANAGE_INSTRUCTORS, 'Only the session owner can mute, remove, hide or change the role of an instructor, or make someone an instructor.')
  }
  return row
}

/** Moderation: who is here, and the instructor's actions on them. */
export function participantRoutes() {
  const r = new Hono<AppEnv>()

  r.get('/:sid/participants', roomAuth, requirePermission(Permission.VIEW_CODE), async (c) => {
    const { caller } = c.var
    const { db } = c.var.services
    const sid = caller.session.id
    const [rows, online, banned] = await Promise.all([
      listParticipants(db.sql, sid),
      onlineUsers(db.sql, sid),
      bannedUserIds(db.sql, sid),
    ])
    const instructor = caller.ctx.role === Role.Instructor
    const bannedIds = new Set(banned.map((b) => b.userId))
    const visible = rows.filter((p) => instructor || !p.hidden).filter((p) => instructor || !bannedIds.has(p.userId))
    return c.json({ participants: visible.map((p) => participantJson(p, caller.session.ownerId, online.has(p.userId), bannedIds.has(p.userId))) } satisfies ParticipantList)
  })

  for (const [path, muted] of [['mute', true], ['unmute', false]] as const) {
    r.post(`/:sid/participants/:uid/${path}`, roomAuth, requirePermission(Permission.MUTE_PARTICIPANT), async (c) => {
      const { caller } = c.var
      const { db, hub } = c.var.services
      const row = await target(c, caller, db.sql, 'mute')
      const updated = await updateParticipant(db.sql, caller.session.id, row.userId, { muted })
      await recordAction(db.sql, { ...roomAudit(c), action: muted ? 'participant.muted' : 'participant.unmuted', targetId: row.userId })
      await hub.participantChanged(caller.session.id, row.userId, muted ? `You were muted by ${caller.claims.name}.` : `You were unmuted by ${caller.claims.name}.`)
      return c.json(await present(db.sql, caller, updated!))
    })
  }

  r.post('/:sid/participants/:uid/kick', roomAuth, requirePermission(Permission.KICK_PARTICIPANT), async (c) => {
    const { caller } = c.var
    const { db, hub } = c.var.services
    const row = await target(c, caller, db.sql, 'remove')
    await writeWithEvent(db.sql, (tx) => ban(tx, caller.session.id, row.userId, row.email, caller.claims.sub), () => ({ type: 'participant.kicked', data: { sessionId: caller.session.id, userId: row.userId, by: caller.claims.sub } }))
    await recordAction(db.sql, { ...roomAudit(c), action: 'participant.removed', targetId: row.userId })
    await hub.kick(caller.session.id, row.userId, `You were removed from this session by ${caller.claims.name}.`)
    return c.json({ userId: row.userId, banned: true })
  })

  r.post('/:sid/participants/:uid/unban', roomAuth, requirePermission(Permission.KICK_PARTICIPANT), async (c) => {
    const { caller } = c.var
    const notBanned = () => notFound(`"${c.req.param('uid')}" is not banned from this session.`, 'not_banned')
    const uid = pathParam(c, 'uid', KeySchema, notBanned)
    if (!(await unban(c.var.services.db.sql, caller.session.id, uid))) throw notBanned()
    await recordAction(c.var.services.db.sql, { ...roomAudit(c), action: 'participant.unbanned', targetId: uid })
    return c.json({ userId: uid, banned: false })
  })

  r.patch('/:sid/participants/:uid', roomAuth, requirePermission(Permission.REMOVE_PARTICIPANTS), async (c) => {
    const { caller } = c.var
    const { db, hub } = c.var.services
    const patch = await body(c, PatchParticipant)
    const row = await target(c, caller, db.sql, patch.role !== undefined ? 'change-role' : 'hide', patch.role)
    const reasons: string[] = []
    let roleOverride: RoleT | null | undefined
    if (patch.role !== undefined && patch.role !== effectiveRole(row.tokenRole, row.roleOverride)) {
      roleOverride = patch.role === row.tokenRole ? null : patch.role
      reasons.push(`${caller.claims.name} changed your role to ${patch.role}.`)
    }
    if (patch.hidden !== undefined && patch.hidden !== row.hidden) {
      reasons.push(patch.hidden ? `${caller.claims.name} hid you from learners and observers.` : `${caller.claims.name} made you visible to everyone.`)
    }
    const previousRole = effectiveRole(row.tokenRole, row.roleOverride)
    const updated = await writeWithEvent(
      db.sql,
      (tx) => updateParticipant(tx, caller.session.id, row.userId, { hidden: patch.hidden, roleOverride }),
      () => roleOverride !== undefined && { type: 'participant.role_changed', data: { sessionId: caller.session.id, userId: row.userId, role: patch.role!, previousRole, by: caller.claims.sub } },
    )
    // Each thing asked is on the record, even when it was so already (`from` equals `to`).
    const audit = roomAudit(c)
    await recordActions(db.sql, [
      ...(patch.role !== undefined ? [{ ...audit, action: 'participant.role_changed' as const, targetId: row.userId, details: { from: effectiveRole(row.tokenRole, row.roleOverride), to: patch.role } }] : []),
      ...(patch.hidden !== undefined ? [{ ...audit, action: patch.hidden ? ('participant.hidden' as const) : ('participant.shown' as const), targetId: row.userId }] : []),
    ])
    if (reasons.length) await hub.participantChanged(caller.session.id, row.userId, reasons.join(' '))
    return c.json(await present(db.sql, caller, updated!))
  })

  for (const [path, muted] of [['mute-all', true], ['unmute-all', false]] as const) {
    r.post(`/:sid/${path}`, roomAuth, requirePermission(Permission.MUTE_PARTICIPANT), async (c) => {
      const { caller } = c.var
      const { db, hub } = c.var.services
      const sid = caller.session.id
      // Everyone but instructors (by effective role) and the owner.
      const rows = await setMutedForAll(db.sql, sid, caller.session.ownerId, muted)
      const audit = roomAudit(c)
      await recordActions(db.sql, rows.map(({ userId }) => ({ ...audit, action: muted ? ('participant.muted' as const) : ('participant.unmuted' as const), targetId: userId, details: { all: true } })))
      const reason = muted ? `You were muted by ${caller.claims.name}.` : `You were unmuted by ${caller.claims.name}.`
      for (const { userId } of rows) await hub.participantChanged(sid, userId, reason)
      return c.json({ changed: rows.map((r) => r.userId) })
    })
  }

  return r
}
