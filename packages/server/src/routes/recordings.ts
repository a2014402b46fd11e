import { gunzipSync } from 'node:zlib'
import { Hono, type Context } from 'hono'
import * as v from 'valibot'
import { Permission, type RecordingConsent, type RecordingEntry, type RecordingList } from '@session-kit/core'
import { recordAction, roomAudit } from '../audit/record.js'
import { requirePermission, roomAuth } from '../http/auth.js'
import type { AppEnv } from '../http/context.js'
import { AppError } from '../errors.js'
import { conflict, notFound } from '../http/errors.js'
import { body, KeySchema, pathParam } from '../http/validate.js'
import { changeRecording, ROOM_STATE, startRecording } from '../recordings/lifecycle.js'
import { attributionOf, consentedPeople } from '../recordings/compile.js'
import { buildReplay } from '../recordings/replay.js'
import type { Sql } from '../store/db.js'
import { recordConsent } from '../store/consents.js'
import { deleteRecording, durationMs, getRecording, getReplay, listRecordings, saveRecording, type RecordingRow } from '../store/recordings.js'

const Title = v.pipe(v.string('title must be text'), v.trim(), v.minLength(1, 'give the recording a title'), v.maxLength(200, 'a title is at most 200 characters'))
const Description = v.pipe(v.string(), v.trim(), v.maxLength(2000, 'a description is at most 2,000 characters'))
const Create = v.object({ title: Title, description: v.optional(Description), isPublic: v.optional(v.boolean('isPublic must be true or false'), false) })
const Consent = v.object({ consent: v.boolean('consent must be true (record me) or false (leave me out)') })
const Patch = v.pipe(
  v.object({ title: v.optional(Title), description: v.optional(v.nullable(Description)), isPublic: v.optional(v.boolean('isPublic must be true or false')) }),
  v.check((p) => p.title !== undefined || p.description !== undefined || p.isPublic !== undefined, 'send a title, description or isPublic to change'),
)

/**
 * A recording as the API shows it; a running one's duration as of the database's time it was read.
 * `consented`: who consented so far, for one under `consent` whose replay is not built yet.
 */
export function recordingJson(r: RecordingRow, now = r.asOf, consented: RecordingEntry['consented'] = r.consented): RecordingEntry {
  return {
    id: r.id,
    title: r.title,
    description: r.description,
    isPublic: r.isPublic,
    status: r.status,
    createdBy: r.createdBy,
    creatorName: r.creatorName,
    startedAt: r.startedAt.toISOString(),
    stoppedAt: r.stoppedAt?.toISOString() ?? null,
    durationSeconds: Math.round(durationMs(r, r.stoppedAt ? new Date(r.stoppedAt).getTime() : now) / 1000),
    durationMs: durationMs(r, r.stoppedAt ? new Date(r.stoppedAt).getTime() : now),
    spans: r.spans.map(([from, to]) => ({ from: new Date(from).toISOString(), to: to === null ? null : new Date(to).toISOString() })),
    error: r.error,
    policy: r.policy,
    consented: r.policy === 'consent' ? (consented ?? []) : null,
  }
}

/** Recordings as the API shows them, with who consented so far to those under `consent` not yet built. */
async function recordingsJson(sql: Sql, rows: RecordingRow[]): Promise<RecordingEntry[]> {
  return Promise.all(
    rows.map(async (r) => {
      if (r.policy !== 'consent' || r.consented) return recordingJson(r)
      const to = r.stoppedAt ? new Date(r.stoppedAt) : new Date(r.asOf)
      return recordingJson(r, r.asOf, await consentedPeople(sql, r.sessionId, await attributionOf(sql, r, to), new Date(r.startedAt).getTime(), to.getTime()))
    }),
  )
}
const recordingJsonLive = async (sql: Sql, r: RecordingRow) => (await recordingsJson(sql, [r]))[0]!

/** Send a stored (gzipped) replay, compressed on the wire when the client accepts it. */
async function sendReplay(c: Context<AppEnv>, rec: RecordingRow, download: boolean) {
  if (rec.status === 'recording' || rec.status === 'paused') throw conflict('This recording is still going: stop it to play it.', 'recording_in_progress')
  if (rec.status === 'processing') throw conflict('This recording is being prepared; try again in a few seconds.', 'recording_processing')
  const data = rec.status === 'ready' ? await getReplay(c.var.services.db.sql, rec.id) : undefined
  if (!data) throw new AppError(410, 'recording_unavailable', rec.error ?? 'This recording has no replay.')
  const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'private, max-age=60', vary: 'accept-encoding' }
  if (download) headers['content-disposition'] = `attachment; filename="recording-${rec.title.replace(/[^\w.-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 60) || rec.id}.json"`
  if (/\bgzip\b/.test(c.req.header('accept-encoding') ?? '')) return c.body(new Uint8Array(data), 200, { ...headers, 'content-encoding': 'gzip' })
  return c.body(new Uint8Array(gunzipSync(data)), 200, headers)
}

const recordingMissing = () => notFound('No such recording in this session.', 'recording_not_found')
const publicRecordingMissing = () => notFound('No such public recording.', 'recording_not_found')
/** The path's `:id`; one that cannot be a recording's is not found. */
const recordingId = (c: Context<AppEnv>, missing = recordingMissing) => pathParam(c, 'id', KeySchema, missing)

/** Recordings: start, pause, resume, stop; list and manage; replay (public ones without a token). */
export function recordingRoutes() {
  const r = new Hono<AppEnv>()

  r.post('/sessions/:sid/recordings', roomAuth, requirePermission(Permission.CREATE_RECORDING), async (c) => {
    const input = await body(c, Create)
    const { caller, services } = c.var
    const started = await startRecording(services.db.sql, { sessionId: caller.session.id, title: input.title, description: input.description || null, isPublic: input.isPublic, createdBy: caller.claims.sub, creatorName: caller.claims.name })
    if (!started.ok) throw conflict(`“${started.active?.title ?? 'A recording'}” is already recording this session: stop it first.`, 'recording_in_progress')
    await recordAction(services.db.sql, { ...roomAudit(c), action: 'recording.started', targetId: started.recording.id, details: { isPublic: started.recording.isPublic } })
    // Everyone here is told before the answer; what they send until that is stored waits (recordings/consent.ts).
    await services.hub.recordingChanged(caller.session.id, 'recording', `${caller.claims.name} started recording this session.`, started.recording)
    return c.json(await recordingJsonLive(services.db.sql, started.recording), 201)
  })

  for (const action of ['pause', 'resume', 'stop'] as const) {
    r.post(`/sessions/:sid/recordings/:id/${action}`, roomAuth, requirePermission(Permission.MANAGE_RECORDINGS), async (c) => {
      const { caller, services } = c.var
      const done = await changeRecording(services.db.sql, caller.session.id, recordingId(c), action, caller.claims.sub)
      if (!done.ok) throw done.reason === 'missing' ? recordingMissing() : conflict(`The recording is ${done.status}: it cannot ${action}.`, 'recording_state')
      if (action === 'stop') await recordAction(services.db.sql, { ...roomAudit(c), action: 'recording.stopped', targetId: done.recording.id })
      const who = caller.claims.name
      const reason = { pause: `${who} paused the recording.`, resume: `${who} resumed the recording.`, stop: `${who} stopped recording this session.` }[action]
      await services.hub.recordingChanged(caller.session.id, ROOM_STATE[action], reason, done.recording)
      if (action === 'stop') void buildReplay(services, done.recording)
      return c.json(await recordingJsonLive(services.db.sql, done.recording))
    })
  }

  r.get('/sessions/:sid/recordings', roomAuth, requirePermission(Permission.VIEW_CODE), async (c) => {
    const { caller, services } = c.var
    return c.json({ recordings: await recordingsJson(services.db.sql, await listRecordings(services.db.sql, caller.session.id)) } satisfies RecordingList)
  })

  r.get('/sessions/:sid/recordings/:id', roomAuth, requirePermission(Permission.VIEW_CODE), async (c) => {
    const { caller, services } = c.var
    const rec = await getRecording(services.db.sql, recordingId(c), caller.session.id)
    if (!rec) throw recordingMissing()
    return c.json(await recordingJsonLive(services.db.sql, rec))
  })

  r.patch('/sessions/:sid/recordings/:id', roomAuth, requirePermission(Permission.MANAGE_RECORDINGS), async (c) => {
    const input = await body(c, Patch)
    const { caller, services } = c.var
    const rec = await getRecording(services.db.sql, recordingId(c), caller.session.id)
    if (!rec) throw recordingMissing()
    const next = await saveRecording(services.db.sql, {
      ...rec,
      title: input.title ?? rec.title,
      description: input.description === undefined ? rec.description : input.description || null,
      isPublic: input.isPublic ?? rec.isPublic,
    })
    return c.json(await recordingJsonLive(services.db.sql, next))
  })

  r.delete('/sessions/:sid/recordings/:id', roomAuth, requirePermission(Permission.MANAGE_RECORDINGS), async (c) => {
    const { caller, services } = c.var
    const rec = await getRecording(services.db.sql, recordingId(c), caller.session.id)
    if (!rec) throw recordingMissing()
    await deleteRecording(services.db.sql, rec.id)
    await recordAction(services.db.sql, { ...roomAudit(c), action: 'recording.deleted', targetId: rec.id, details: { status: rec.status } })
    if (rec.status === 'recording' || rec.status === 'paused') await services.hub.recordingChanged(caller.session.id, 'off', `${caller.claims.name} stopped and deleted the recording.`)
    return c.body(null, 204)
  })

  for (const [path, download] of [['events', false], ['download', true]] as const) {
    r.get(`/sessions/:sid/recordings/:id/${path}`, roomAuth, requirePermission(Permission.VIEW_CODE), async (c) => {
      const rec = await getRecording(c.var.services.db.sql, recordingId(c), c.var.caller.session.id)
      if (!rec) throw recordingMissing()
      return sendReplay(c, rec, download)
    })
  }

  // Any role: everyone decides for themselves, at any time (also before or between recordings).
  r.post('/sessions/:sid/recording-consent', roomAuth, requirePermission(Permission.VIEW_CODE), async (c) => {
    const { consent } = await body(c, Consent)
    const { caller, services } = c.var
    const done = await recordConsent(services.db.sql, { sessionId: caller.session.id, userId: caller.claims.sub, consent, at: services.hub.now() })
    if (!done.ok) {
      c.header('Retry-After', String(done.retryAfterSeconds))
      throw new AppError(429, 'rate_limited', `You changed your recording choice too often: try again in ${done.retryAfterSeconds} s.`, { retryAfterSeconds: done.retryAfterSeconds })
    }
    await services.hub.consentChanged(caller.session.id, caller.claims.sub, consent)
    return c.json({ consent, decidedAt: done.decidedAt.toISOString() } satisfies RecordingConsent)
  })

  r.get('/recordings/:id/public', async (c) => {
    const rec = await getRecording(c.var.services.db.sql, recordingId(c, publicRecordingMissing))
    // Private and unknown recordings look the same from outside.
    if (!rec || !rec.isPublic) throw publicRecordingMissing()
    return sendReplay(c, rec, false)
  })

  return r
}
