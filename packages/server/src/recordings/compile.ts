import { gzipSync } from 'node:zlib'
import * as A from '@automerge/automerge'
import { applyReplayEvent, colorFor, type LectureChange, type Replay, type ReplayEvent } from '@session-kit/core'
import { chatBodiesSince } from '../store/chat.js'
import type { Sql } from '../store/db.js'
import { activityEventsBetween, changeEventsSince, type RunRow } from '../store/events.js'
import { participantNames } from '../store/participants.js'
import { durationMs as recordedMs, type RecordingRow } from '../store/recordings.js'
import type { Room } from '../sync/room.js'
import { TextIndex } from '../sync/text-index.js'

export type { Replay, ReplayEvent }

const KEYFRAME_EVERY = 200
const YIELD_EVERY = 500

/**
 * Recording time of an instant: time spent recording before it, paused spans left out. Instants
 * inside a pause map to where recording resumed (edits made then appear at once: the document
 * cannot skip them, but they are not shown as typing); after the last span, to its end.
 */
export function recordingTime(spans: readonly [number, number | null][], at: number, end: number): { t: number; paused: boolean } {
  let elapsed = 0
  for (const [from, to] of spans) {
    const stop = to ?? end
    if (at < from) return { t: elapsed, paused: true }
    if (at <= stop) return { t: elapsed + (at - from), paused: false }
    elapsed += stop - from
  }
  return { t: elapsed, paused: true }
}

const nextTick = () => new Promise((r) => setImmediate(r))

/**
 * Build a recording's replay from what the server already has: the Automerge changes (turned into
 * plain-index splices by a mirror of the document, in the order the server accepted them), chat
 * messages, runs, joins, leaves and lecture events (hands, follow, spotlight) between start and
 * stop. Linear in the document's history; runs in the background after a recording stops, yielding
 * to the event loop as it goes.
 */
export async function compileReplay(sql: Sql, room: Room, rec: RecordingRow, sessionTitle: string): Promise<{ replay: Replay; changes: number }> {
  const start = new Date(rec.startedAt).getTime()
  const stop = rec.stoppedAt ? new Date(rec.stoppedAt).getTime() : Date.now()
  const changeEvents = await changeEventsSince(sql, rec.sessionId, new Date(start))
  const others = await activityEventsBetween(sql, rec.sessionId, new Date(start), new Date(stop))
  const chats = new Map((await chatBodiesSince(sql, rec.sessionId, new Date(start))).map((c) => [String(c.id), c.body]))

  // The document up to the start: every change not accepted after it, in causal order.
  const all = await room.allChanges()
  const after = new Set(changeEvents.map((e) => e.ref))
  const mirror = new TextIndex()
  const byHash = new Map<string, A.DecodedChange>()
  let n = 0
  for (const bytes of all) {
    const change = A.decodeChange(bytes)
    if (after.has(change.hash)) byHash.set(change.hash, change)
    else mirror.apply(change)
    if (++n % YIELD_EVERY === 0) await nextTick()
  }
  const files = mirror.files()

  // Everything between start and stop, in the order it happened, on the recording's clock.
  type Pending = { id: number; at: number; make: (t: number) => ReplayEvent | null; edit: boolean }
  const timeline: Pending[] = []
  for (const e of changeEvents) {
    const at = new Date(e.at).getTime()
    if (at > stop) continue
    const change = byHash.get(e.ref)
    if (!change) continue
    timeline.push({ id: e.id, at, edit: true, make: (t) => {
      const r = mirror.apply(change)
      if (!r.splices.length && !r.created.length && !r.removed.length) return null
      return { t, type: 'edit', userId: e.userId ?? '', splices: r.splices, ...(r.created.length ? { created: r.created } : {}), ...(r.removed.length ? { removed: r.removed } : {}) }
    } })
  }
  for (const e of others) {
    const at = new Date(e.at).getTime()
    const userId = e.userId ?? ''
    timeline.push({ id: e.id, at, edit: false, make: (t) => {
      if (e.kind === 'chat') return chats.has(e.ref ?? '') ? { t, type: 'chat', userId, text: chats.get(e.ref!)! } : null
      if (e.kind === 'run') {
        const d = e.data as RunRow['data']
        const verified = d.verified ? { verified: true as const, status: d.status, ...(d.tests ? { tests: d.tests } : {}) } : {}
        return { t, type: 'run', userId, file: d.file, ok: d.ok, errors: d.errors, timedOut: Boolean(d.timedOut), durationMs: d.durationMs, ...verified }
      }
      if (e.kind === 'lecture') {
        // The change as the room heard it; a hand's question and the cleared count stay out.
        const { count: _, ...change } = e.data as LectureChange & { count?: number }
        return { t, type: 'lecture', userId, change }
      }
      return { t, type: e.kind as 'join' | 'leave', userId }
    } })
  }
  timeline.sort((a, b) => a.id - b.id)

  const events: ReplayEvent[] = []
  const keyframes: Replay['keyframes'] = [{ index: 0, t: 0, files: { ...files } }]
  const current = { ...files }
  let edits = 0
  for (const p of timeline) {
    const { t, paused } = recordingTime(rec.spans, p.at, stop)
    // Paused spans are left out; edits made then must still be applied (later ones build on them).
    if (paused && !p.edit) continue
    const event = p.make(t)
    if (!event) continue
    events.push(event)
    if (event.type === 'edit') {
      applyReplayEvent(current, event)
      if (++edits % KEYFRAME_EVERY === 0) keyframes.push({ index: events.length, t, files: { ...current } })
    }
    if (events.length % YIELD_EVERY === 0) await nextTick()
  }

  const ids = [...new Set(events.map((e) => e.userId).filter(Boolean))]
  const people = ids.length ? await participantNames(sql, rec.sessionId, ids) : []
  const participants: Replay['participants'] = {}
  for (const id of ids) participants[id] = { name: people.find((p) => p.userId === id)?.name ?? 'Someone', color: colorFor(id) }

  const durationMs = recordedMs(rec, stop)
  return {
    replay: {
      version: 1,
      recording: { id: rec.id, sessionId: rec.sessionId, sessionTitle, title: rec.title, description: rec.description, startedAt: new Date(rec.startedAt).toISOString(), durationMs },
      files,
      events,
      keyframes,
      participants,
    },
    changes: edits,
  }
}

export function packReplay(replay: Replay): Uint8Array {
  return gzipSync(JSON.stringify(replay))
}
