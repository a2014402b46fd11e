import { randomUUID } from 'node:crypto'
import { Hono, type Context } from 'hono'
import * as v from 'valibot'
import { maySeeSnapshot, Permission, Role, Rule, type SnapshotEntry, type SnapshotList, type SnapshotRestored } from '@session-kit/core'
import { recordAction, roomAudit } from '../audit/record.js'
import { assertCan, requirePermission, roomAuth } from '../http/auth.js'
import { emitEvent, writeWithEvent } from '../webhooks/events.js'
import type { AppEnv, RoomCaller } from '../http/context.js'
import { notFound } from '../http/errors.js'
import { body, KeySchema, pathParam } from '../http/validate.js'
import { deleteSnapshot, getSnapshot, insertSnapshot, listSnapshots, snapshotInfo, type SnapshotRow } from '../store/snapshots.js'
import type { Sql } from '../store/db.js'
import type { Hub } from '../sync/hub.js'

const Title = v.pipe(v.string('title must be text'), v.trim(), v.minLength(1, 'give the snapshot a title'), v.maxLength(200, 'a title is at most 200 characters'))
const Create = v.object({ title: Title, description: v.optional(v.pipe(v.string(), v.trim(), v.maxLength(2000, 'a description is at most 2,000 characters'))) })

export function snapshotJson(s: SnapshotRow, withFiles = false): SnapshotEntry {
  return { ...snapshotInfo(s), ...(withFiles ? { files: s.files } : {}) }
}

/** Who did it, for the room's `snapshot` event. */
const by = (caller: RoomCaller) => ({ userId: caller.claims.sub, name: caller.claims.name })

const snapshotMissing = () => notFound('No such snapshot in this session (or it is another learner’s).', 'snapshot_not_found')

/** The snapshot of the path's `:id` if the caller may see it (learners: their own and instructors'), or 404. */
async function visible(c: Context<AppEnv>): Promise<SnapshotRow> {
  const { caller, services } = c.var
  const s = await getSnapshot(services.db.sql, caller.session.id, pathParam(c, 'id', KeySchema, snapshotMissing))
  if (!s || !maySeeSnapshot(caller.ctx, s)) throw snapshotMissing()
  return s
}

/**
 * Make the room's files equal to the snapshot's with the smallest edits: per file, only the
 * changed region is spliced (a whole-text replacement is slow in Automerge and would make every
 * cursor jump), files missing from the snapshot are removed, new ones added.
 */
async function openRoom(hub: Hub, sid: string) {
  const room = await hub.room(sid)
  if (!room) throw notFound(`Session "${sid}" does not exist.`, 'session_not_found')
  return room
}

/** Snapshots: named copies of the room's code, restorable as a normal change everyone receives. */
export function snapshotRoutes() {
  const r = new Hono<AppEnv>()

  r.post('/:sid/snapshots', roomAuth, requirePermission(Permission.CREATE_SNAPSHOT), async (c) => {
    const input = await body(c, Create)
    const { caller, services } = c.var
    const room = await openRoom(services.hub, caller.session.id)
    const { files, heads } = room.currentText()
    const row = await writeWithEvent(services.db.sql, (tx) => insertSnapshot(tx, {
      id: randomUUID(),
      sessionId: caller.session.id,
      title: input.title,
      description: input.description || null,
      createdBy: caller.claims.sub,
      creatorName: caller.claims.name,
      creatorRole: caller.ctx.role,
      files,
      heads,
    }), (row) => ({ type: 'snapshot.created', data: { sessionId: row.sessionId, snapshotId: row.id, title: row.title, by: row.createdBy } }))
    await services.hub.snapshotChanged(caller.session.id, 'created', row, by(caller))
    return c.json(snapshotJson(row), 201)
  })

  r.get('/:sid/snapshots', roomAuth, requirePermission(Permission.VIEW_CODE), async (c) => {
    const { caller, services } = c.var
    const rows = await listSnapshots(services.db.sql, caller.session.id, { userId: caller.claims.sub, instructor: caller.ctx.role === Role.Instructor })
    return c.json({ snapshots: rows.map((s) => snapshotJson(s)) } satisfies SnapshotList)
  })

  r.get('/:sid/snapshots/:id', roomAuth, requirePermission(Permission.VIEW_CODE), async (c) => c.json(snapshotJson(await visible(c), true)))

  r.get('/:sid/snapshots/:id/export', roomAuth, requirePermission(Permission.VIEW_CODE), async (c) => {
    const { caller } = c.var
    const s = await visible(c)
    const safe = s.title.replace(/[^\w.-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 60) || 'snapshot'
    c.header('content-disposition', `attachment; filename="${caller.session.id}-${safe}.json"`)
    return c.json({ format: 'session-kit-snapshot', version: 1, sessionId: caller.session.id, sessionTitle: caller.session.title, ...snapshotJson(s, true) })
  })

  r.post('/:sid/snapshots/:id/restore', roomAuth, requirePermission(Permission.RESTORE_SNAPSHOT), async (c) => {
    const { caller, services } = c.var
    const s = await visible(c)
    const room = await openRoom(services.hub, caller.session.id)
    const heads = await room.setFiles(s.files, caller.claims.sub)
    // After the document's change is stored (the room's own commit, not a transaction of ours).
    await emitEvent(services.db.sql, { type: 'snapshot.restored', data: { sessionId: caller.session.id, snapshotId: s.id, title: s.title, by: caller.claims.sub } })
    await services.hub.snapshotChanged(caller.session.id, 'restored', s, by(caller))
    return c.json({ restored: s.id, heads, files: room.currentText().files } satisfies SnapshotRestored)
  })

  r.delete('/:sid/snapshots/:id', roomAuth, requirePermission(Permission.VIEW_CODE), async (c) => {
    const { caller, services } = c.var
    const s = await visible(c)
    assertCan(caller, Rule.DELETE_SNAPSHOT, { createdBy: s.createdBy })
    await deleteSnapshot(services.db.sql, s.id)
    await recordAction(services.db.sql, { ...roomAudit(c), action: 'snapshot.deleted', targetId: s.id, details: { creatorRole: s.creatorRole, own: s.createdBy === caller.claims.sub } })
    await services.hub.snapshotChanged(caller.session.id, 'deleted', s, by(caller))
    return c.body(null, 204)
  })

  return r
}
