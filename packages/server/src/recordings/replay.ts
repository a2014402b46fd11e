import type { Services } from '../http/context.js'
import { durationMs, saveRecording, saveReplay, type RecordingRow } from '../store/recordings.js'
import { getSession } from '../store/sessions.js'
import { writeWithEvent } from '../webhooks/events.js'
import { compileReplay, packReplay } from './compile.js'

/** Build the replay of a stopped recording in the background; `ready` (or `failed`) when done. */
export async function buildReplay(services: Pick<Services, 'db' | 'hub' | 'log'>, rec: RecordingRow) {
  try {
    const room = await services.hub.room(rec.sessionId)
    const session = await getSession(services.db.sql, rec.sessionId)
    if (!room || !session) throw new Error('the session no longer exists')
    const { replay, changes, consented } = await compileReplay(services.db.sql, room, rec, session.title)
    await saveReplay(services.db.sql, rec.id, packReplay(replay), changes, consented)
    await writeWithEvent(
      services.db.sql,
      (tx) => saveRecording(tx, { ...rec, status: 'ready', error: null }),
      () => ({ type: 'recording.ready', data: { sessionId: rec.sessionId, recordingId: rec.id, title: rec.title, durationMs: durationMs(rec, rec.asOf) } }),
    )
  } catch (e) {
    services.log(`recording ${rec.id}: the replay could not be built: ${(e as Error).stack ?? e}`)
    await saveRecording(services.db.sql, { ...rec, status: 'failed', error: 'The replay could not be built.' }).catch(() => {})
  }
}
