import { gzipSync } from 'node:zlib'
import * as A from '@automerge/automerge'
import { ANONYMOUS_AUTHOR, applyReplayEvent, colorFor, type LectureChange, type Replay, type ReplayEvent } from '@session-kit/core'
import { chatBodiesSince } from '../store/chat.js'
import { consentHistory, recordingNotices } from '../store/consents.js'
import type { Sql } from '../store/db.js'
import { activityEventsBetween, changeEventsSince, type RunRow } from '../store/events.js'
import { participantNames } from '../store/participants.js'
import { durationMs as recordedMs, type RecordingRow } from '../store/recordings.js'
import type { Room } from '../sync/room.js'
import { TextIndex } from '../sync/text-index.js'
import { anonymousId, Attribution } from './consent.js'

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

/** Who may be named in a recording when, from what the store holds (see consent.ts). */
export async function attributionOf(sql: Sql, rec: Pick<RecordingRow, 'id' | 'sessionId' | 'policy'>, until: Date): Promise<Attribution> {
  if (rec.policy === null) return new Attribution(null, new Map(), [])
  const [told, history] = await Promise.all([recordingNotices(sql, rec.id), consentHistory(sql, rec.sessionId, until)])
  return new Attribution(rec.policy, told, history)
}

/** Under `consent`: who allowed recording at some moment from `from` to `to`, with their names; null otherwise. */
export async function consentedPeople(sql: Sql, sessionId: string, who: Attribution, from: number, to: number): Promise<RecordingRow['consented']> {
  const ids = who.consentedBetween(from, to)
  if (!ids) return null
  const names = await allNames(sql, sessionId, ids)
  return ids.map((userId) => ({ userId, name: names.get(userId) ?? 'Someone' }))
}

/**
 * Build a recording's replay from what the server already has: the Automerge changes (turned into
 * plain-index splices by a mirror of the document, in the order the server accepted them), chat
 * messages, runs, joins, leaves and lecture events (hands, follow, spotlight) between start and
 * stop. Linear in the document's history; runs in the background after a recording stops, yielding
 * to the event loop as it goes.
 *
 * People appear by name only while the recording's policy allows it (`Attribution`): anyone else's
 * edits are still applied (later edits build on them) under one anonymous author, and their chat,
 * runs, joins, leaves and hands are left out. `consented` lists, under `consent`, who allowed it.
 */
export async function compileReplay(sql: Sql, room: Room, rec: RecordingRow, sessionTitle: string): Promise<{ replay: Replay; changes: number; consented: RecordingRow['consented'] }> {
  const start = new Date(rec.startedAt).getTime()
  const stop = rec.stoppedAt ? new Date(rec.stoppedAt).getTime() : Date.now()
  const changeEvents = await changeEventsSince(sql, rec.sessionId, new Date(start))
  const others = await activityEventsBetween(sql, rec.sessionId, new Date(start), new Date(stop))
  const chats = new Map((await chatBodiesSince(sql, rec.sessionId, new Date(start))).map((c) => [String(c.id), c.body]))
  const who = await attributionOf(sql, rec, new Date(stop))
  const anonymous = anonymousId([...changeEvents, ...others].map((e) => e.userId ?? ''))

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
    const userId = who.named(e.userId ?? '', at) ? (e.userId ?? '') : anonymous
    timeline.push({ id: e.id, at, edit: true, make: (t) => {
      const r = mirror.apply(change)
      if (!r.splices.length && !r.created.length && !r.removed.length) return null
      return { t, type: 'edit', userId, splices: r.splices, ...(r.created.length ? { created: r.created } : {}), ...(r.removed.length ? { removed: r.removed } : {}) }
    } })
  }
  const names = await allNames(sql, rec.sessionId, [...changeEvents, ...others].map((e) => e.userId ?? ''))
  for (const e of others) {
    const at = new Date(e.at).getTime()
    const userId = e.userId ?? ''
    // Not theirs to be named in: left out (nothing else depends on it, unlike an edit).
    if (!(e.kind === 'join' || e.kind === 'leave' ? who.presence(userId, at) : who.named(userId, at))) continue
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
        return { t, type: 'lecture', userId, change: withoutUnnamed(change, at, who, names) }
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

  const ids = [...new Set(events.map((e) => e.userId).filter((id) => id && id !== anonymous))]
  const participants: Replay['participants'] = {}
  for (const id of ids) participants[id] = { name: names.get(id) ?? 'Someone', color: colorFor(id) }
  if (events.some((e) => e.userId === anonymous)) participants[anonymous] = { name: ANONYMOUS_AUTHOR[who.policy ?? 'notice'], color: ANONYMOUS_COLOR, anonymous: true }

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
    consented: await consentedPeople(sql, rec.sessionId, who, start, stop),
  }
}

/** A neutral grey: an anonymous author is nobody's colour. */
const ANONYMOUS_COLOR = '#6b7280'

/** Every named person's name (the participants table), by id. */
async function allNames(sql: Sql, sessionId: string, userIds: string[]): Promise<Map<string, string>> {
  const ids = [...new Set(userIds.filter(Boolean))]
  return new Map((ids.length ? await participantNames(sql, sessionId, ids) : []).map((p) => [p.userId, p.name]))
}

/**
 * A lecture change may name a second person (`by`: the instructor who lowered a hand or started a
 * spotlight): their name stays only if they may be named then (a name we cannot place goes too).
 * Clearing every hand is the instructor's own event, already checked as theirs.
 */
function withoutUnnamed(change: LectureChange, at: number, who: Attribution, names: Map<string, string>): LectureChange {
  if (change.kind === 'hands-cleared' || !('by' in change) || !change.by || who.policy === null) return change
  if ([...names].some(([id, name]) => name === change.by && who.named(id, at))) return change
  const { by: _, ...rest } = change
  return rest as LectureChange
}

export function packReplay(replay: Replay): Uint8Array {
  return gzipSync(JSON.stringify(replay))
}
