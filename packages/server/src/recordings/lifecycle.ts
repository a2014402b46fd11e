import { randomUUID } from 'node:crypto'
import type { Sql } from '../store/db.js'
import { activeRecording, durationMs, getRecording, insertRecording, transitionRecording, type RecordingRow, type RecordingStatus } from '../store/recordings.js'
import { writeWithEvent } from '../webhooks/events.js'

/** What may be done to a recording once started. */
export type RecordingAction = 'pause' | 'resume' | 'stop'

/**
 * The recording state machine: from which states each action may be taken, the state it leads to,
 * and what it does to the recorded spans. Times are the database's (see store/recordings.ts).
 */
const TRANSITIONS: Record<RecordingAction, { from: readonly RecordingStatus[]; to: RecordingStatus; span: 'open' | 'close' }> = {
  pause: { from: ['recording'], to: 'paused', span: 'close' },
  resume: { from: ['paused'], to: 'recording', span: 'open' },
  stop: { from: ['recording', 'paused'], to: 'processing', span: 'close' },
}

/** The state the room shows everyone after an action. */
export const ROOM_STATE: Record<RecordingAction, 'recording' | 'paused' | 'off'> = { pause: 'paused', resume: 'recording', stop: 'off' }

export type Started = { ok: true; recording: RecordingRow } | { ok: false; active: RecordingRow | undefined }

/** Start recording a session now; refused while another recording of it is going. */
export async function startRecording(
  sql: Sql,
  input: { sessionId: string; title: string; description: string | null; isPublic: boolean; createdBy: string; creatorName: string },
): Promise<Started> {
  const row = await writeWithEvent(
    sql,
    (tx) => insertRecording(tx, { id: randomUUID(), ...input }),
    (r) => r && { type: 'recording.started', data: { sessionId: r.sessionId, recordingId: r.id, title: r.title, by: r.createdBy } },
  )
  if (row) return { ok: true, recording: row }
  return { ok: false, active: await activeRecording(sql, input.sessionId) }
}

export type Transitioned = { ok: true; recording: RecordingRow } | { ok: false; reason: 'missing' } | { ok: false; reason: 'state'; status: RecordingStatus }

/** Pause, resume or stop a session's recording, if its state allows it (`by`: who asked). */
export async function changeRecording(sql: Sql, sessionId: string, id: string, action: RecordingAction, by = ''): Promise<Transitioned> {
  const t = TRANSITIONS[action]
  const row = await writeWithEvent(
    sql,
    (tx) => transitionRecording(tx, { id, sessionId, from: t.from, to: t.to, span: t.span, stop: action === 'stop' }),
    (r) => r && action === 'stop' && { type: 'recording.stopped', data: { sessionId, recordingId: r.id, title: r.title, by, durationMs: durationMs(r, r.asOf) } },
  )
  if (row) return { ok: true, recording: row }
  // Not moved: say why, as the recording is now.
  const now = await getRecording(sql, id, sessionId)
  return now ? { ok: false, reason: 'state', status: now.status } : { ok: false, reason: 'missing' }
}
