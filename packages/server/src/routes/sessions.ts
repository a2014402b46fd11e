import { Hono } from 'hono'
import * as v from 'valibot'
import { FileNameSchema, LanguageSchema, Permission, permissionsFor, RECORDING_POLICIES, Rule, SessionIdSchema, type DocumentText, type SessionEntry, type SessionList, type SessionView } from '@session-kit/core'
import { hostAudit, recordAction, roomAudit } from '../audit/record.js'
import { requireApiKey, requirePermission, roomAuth } from '../http/auth.js'
import type { AppEnv, RoomCaller } from '../http/context.js'
import { AppError } from '../errors.js'
import { conflict, notFound } from '../http/errors.js'
import { body, parse, pathParam, wholeNumber } from '../http/validate.js'
import { activeRecordingStatus } from '../store/recordings.js'
import { createSession, deleteSession, listSessions, setEditingLocked, updateSession, type SessionRow } from '../store/sessions.js'
import type { Room } from '../sync/room.js'
import { assertShorterThanDeployment, RetentionPatchSchema } from '../retention/periods.js'

const Title = v.pipe(v.string('title must be a string'), v.trim(), v.minLength(1, 'title must not be empty'), v.maxLength(200, 'title is at most 200 characters'))
const UserId = v.pipe(v.string('ownerId must be a string'), v.minLength(1, 'ownerId must not be empty'), v.maxLength(200))
const FileText = v.pipe(v.string('file contents must be text'), v.maxLength(1_000_000, 'a file is at most 1,000,000 characters'))

const RecordingPolicy = v.picklist(RECORDING_POLICIES, 'recordingPolicy must be "notice" or "consent"')
const Pseudonymize = v.boolean('pseudonymize must be true or false')

const CreateSession = v.object({
  id: v.optional(SessionIdSchema),
  recordingPolicy: v.optional(RecordingPolicy),
  pseudonymize: v.optional(Pseudonymize),
  title: Title,
  language: v.optional(LanguageSchema, 'javascript'),
  ownerId: UserId,
  files: v.optional(v.pipe(v.record(FileNameSchema, FileText), v.check((f) => Object.keys(f).length <= 100, 'a session starts with at most 100 files'))),
})
const PatchSession = v.pipe(
  v.object({ title: v.optional(Title), language: v.optional(LanguageSchema), recordingPolicy: v.optional(RecordingPolicy), pseudonymize: v.optional(Pseudonymize), retention: v.optional(RetentionPatchSchema) }),
  v.check(
    (p) => p.title !== undefined || p.language !== undefined || p.recordingPolicy !== undefined || p.pseudonymize !== undefined || p.retention !== undefined,
    'send a title, language, recordingPolicy, pseudonymize or retention to change',
  ),
)
const ListQuery = v.object({
  limit: v.optional(wholeNumber('limit', { min: 1, max: 200 }), '50'),
  after: v.optional(SessionIdSchema),
})
const NewFile = v.object({ name: FileNameSchema, content: v.optional(FileText, '') })
const RenameFile = v.object({ name: FileNameSchema })

export function sessionJson(s: SessionRow): SessionEntry {
  return { id: s.id, title: s.title, language: s.language, ownerId: s.ownerId, editingLocked: s.editingLocked, recordingPolicy: s.recordingPolicy, pseudonymize: s.pseudonymize, createdAt: s.createdAt.toISOString(), updatedAt: s.updatedAt.toISOString(), retention: s.retention }
}

function you(caller: RoomCaller): SessionView['you'] {
  return { userId: caller.claims.sub, name: caller.claims.name, role: caller.ctx.role, owner: Boolean(caller.ctx.owner), muted: Boolean(caller.ctx.muted), permissions: permissionsFor(caller.ctx) }
}

export function sessionRoutes() {
  const r = new Hono<AppEnv>()

  // ---- host (API key) ----
  r.post('/', requireApiKey, async (c) => {
    const input = await body(c, CreateSession)
    const { db, hub } = c.var.services
    const id = input.id ?? crypto.randomUUID()
    const { session, created } = await createSession(db.sql, { id, title: input.title, language: input.language, ownerId: input.ownerId, files: input.files, recordingPolicy: input.recordingPolicy, pseudonymize: input.pseudonymize })
    if (!created) throw conflict(`A session with id "${id}" already exists.`, 'session_exists')
    hub.rooms.delete(id)
    return c.json(sessionJson(session), 201)
  })

  r.get('/', requireApiKey, async (c) => {
    const q = parse(ListQuery, c.req.query())
    const rows = await listSessions(c.var.services.db.sql, { limit: q.limit + 1, after: q.after })
    const page = rows.slice(0, q.limit)
    return c.json({ sessions: page.map(sessionJson), next: rows.length > q.limit ? page[page.length - 1]!.id : null } satisfies SessionList)
  })

  r.delete('/:sid', requireApiKey, async (c) => {
    const sid = pathParam(c, 'sid', SessionIdSchema, () => notFound(`Session "${c.req.param('sid')}" does not exist.`, 'session_not_found'))
    const { db, hub } = c.var.services
    hub.endSession(sid)
    if (!(await deleteSession(db.sql, sid))) throw notFound(`Session "${sid}" does not exist.`, 'session_not_found')
    await recordAction(db.sql, { ...hostAudit(c), action: 'session.deleted', sessionId: sid })
    return c.body(null, 204)
  })

  // ---- room (token) ----
  r.get('/:sid', roomAuth, requirePermission(Permission.VIEW_CODE), (c) => {
    const { caller } = c.var
    return c.json({ ...sessionJson(caller.session), you: you(caller) } satisfies SessionView)
  })

  r.patch('/:sid', roomAuth, requirePermission(Permission.MANAGE_SESSION), async (c) => {
    const patch = await body(c, PatchSession)
    const { db, hub } = c.var.services
    if (patch.retention) assertShorterThanDeployment(patch.retention, c.var.services.config.retention)
    // A recording keeps the policy it started under (its replay applies it): change it between recordings.
    if (patch.recordingPolicy && patch.recordingPolicy !== c.var.caller.session.recordingPolicy && (await activeRecordingStatus(db.sql, c.var.caller.session.id))) {
      throw conflict('The session is being recorded: stop the recording before changing its recording policy.', 'recording_in_progress')
    }
    const session = await updateSession(db.sql, c.var.caller.session.id, patch)
    await hub.sessionChanged(session!.id, 'The session settings changed.')
    return c.json(sessionJson(session!))
  })

  for (const [path, locked] of [['lock', true], ['unlock', false]] as const) {
    r.post(`/:sid/${path}`, roomAuth, requirePermission(Permission.MUTE_PARTICIPANT), async (c) => {
      const { db, hub } = c.var.services
      const { caller } = c.var
      const session = await setEditingLocked(db.sql, caller.session.id, locked)
      await recordAction(db.sql, { ...roomAudit(c), action: locked ? 'session.editing_locked' : 'session.editing_unlocked' })
      const reason = locked ? `Editing locked by ${caller.claims.name}.` : `Editing unlocked by ${caller.claims.name}.`
      await hub.sessionChanged(session!.id, reason)
      return c.json(sessionJson(session!))
    })
  }

  r.get('/:sid/document', roomAuth, requirePermission(Permission.VIEW_CODE), async (c) => {
    const text = await c.var.services.hub.documentText(c.var.caller.session.id)
    if (!text) throw notFound(`Session "${c.var.caller.session.id}" does not exist.`, 'session_not_found')
    c.header('cache-control', 'no-store')
    return c.json(text satisfies DocumentText)
  })

  r.post('/:sid/files', roomAuth, requirePermission(Rule.MANAGE_FILES), async (c) => {
    const input = await body(c, NewFile)
    const room = await openRoom(c.var.services.hub, c.var.caller.session.id)
    if (input.name in room.currentText().files) throw conflict(`A file named "${input.name}" already exists.`, 'file_exists')
    await room.setFiles({ ...room.currentText().files, [input.name]: input.content }, c.var.caller.claims.sub)
    return c.json(room.currentText(), 201)
  })

  r.patch('/:sid/files/:name', roomAuth, requirePermission(Rule.MANAGE_FILES), async (c) => {
    const from = parse(FileNameSchema, c.req.param('name'))
    const { name: to } = await body(c, RenameFile)
    const room = await openRoom(c.var.services.hub, c.var.caller.session.id)
    const files = room.currentText().files
    if (!(from in files)) throw notFound(`There is no file named "${from}".`, 'file_not_found')
    if (to !== from && to in files) throw conflict(`A file named "${to}" already exists.`, 'file_exists')
    if (to !== from) {
      const renamed = { ...files, [to]: files[from]! }
      delete renamed[from]
      await room.setFiles(renamed, c.var.caller.claims.sub)
    }
    return c.json(room.currentText())
  })

  r.delete('/:sid/files/:name', roomAuth, requirePermission(Rule.MANAGE_FILES), async (c) => {
    const name = parse(FileNameSchema, c.req.param('name'))
    const room = await openRoom(c.var.services.hub, c.var.caller.session.id)
    const files = room.currentText().files
    if (!(name in files)) throw notFound(`There is no file named "${name}".`, 'file_not_found')
    if (Object.keys(files).length === 1) throw new AppError(409, 'last_file', 'A session keeps at least one file.')
    const rest = { ...files }
    delete rest[name]
    await room.setFiles(rest, c.var.caller.claims.sub)
    return c.json(room.currentText())
  })

  return r
}

async function openRoom(hub: { room(sid: string): Promise<Room | undefined> }, sid: string): Promise<Room> {
  const room = await hub.room(sid)
  if (!room) throw notFound(`Session "${sid}" does not exist.`, 'session_not_found')
  return room
}

