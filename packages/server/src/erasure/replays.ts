import { gunzipSync } from 'node:zlib'
import { colorFor, type LectureChange, type Replay, type ReplayEvent } from '@session-kit/core'
import { packReplay } from '../recordings/compile.js'
import type { Tx } from '../store/db.js'
import { FORMER_PARTICIPANT_NAME, type Forgetting } from './former.js'

/*
 * Recordings' replays name the people in them (events carry user ids; `participants` their names
 * and colours; lecture changes names too). Erasing someone rewrites each replay they appear in:
 * their edits stay (the code is the room's) under the former participant's id and name, their runs,
 * joins, leaves and hands too, and their chat messages go (as their chat does everywhere).
 */

/** Rewrite one replay; whether anything in it was theirs. */
export function forgetInReplay(replay: Replay, f: Forgetting): boolean {
  const theirs = (id: string | undefined) => id === f.userId
  const named = (name: string | undefined) => name !== undefined && f.names.has(name)
  let changed = false
  const events: ReplayEvent[] = []
  // Keyframes point into `events` by index: dropping an event moves every later index down.
  const dropped: number[] = []
  replay.events.forEach((e, i) => {
    if (!theirs(e.userId) && !(e.type === 'lecture' && mentions(e.change, f))) {
      events.push(e)
      return
    }
    changed = true
    if (e.type === 'chat') {
      dropped.push(i)
      return
    }
    const userId = theirs(e.userId) ? f.placeholder : e.userId
    events.push(e.type === 'lecture' ? { ...e, userId, change: forgetInChange(e.change, f, named) } : { ...e, userId })
  })
  if (replay.participants[f.userId]) {
    delete replay.participants[f.userId]
    replay.participants[f.placeholder] = { name: FORMER_PARTICIPANT_NAME, color: colorFor(f.placeholder) }
    changed = true
  }
  if (!changed) return false
  replay.events = events
  if (dropped.length) {
    replay.keyframes = replay.keyframes.map((k) => ({ ...k, index: k.index - dropped.filter((i) => i < k.index).length }))
  }
  return true
}

function mentions(change: LectureChange, f: Forgetting): boolean {
  return ('userId' in change && change.userId === f.userId) || ('by' in change && change.by !== undefined && f.names.has(change.by))
}

function forgetInChange(change: LectureChange, f: Forgetting, named: (n: string | undefined) => boolean): LectureChange {
  const out = { ...change } as LectureChange & { userId?: string; name?: string; by?: string }
  if (out.userId === f.userId) {
    out.userId = f.placeholder
    out.name = FORMER_PARTICIPANT_NAME
  }
  if (named(out.by)) out.by = FORMER_PARTICIPANT_NAME
  return out
}

/** Rewrite every stored replay of these sessions that names the person; how many changed. */
export async function forgetInReplays(tx: Tx, sessionIds: string[], f: Forgetting): Promise<number> {
  if (!sessionIds.length) return 0
  const rows = await tx<{ id: string; data: Buffer }[]>`
    select p.recording_id as id, p.data from recording_replays p join recordings r on r.id = p.recording_id
    where r.session_id = any(${sessionIds}) for update of p`
  let changed = 0
  for (const row of rows) {
    const replay = JSON.parse(gunzipSync(row.data).toString('utf8')) as Replay
    if (!forgetInReplay(replay, f)) continue
    await tx`update recording_replays set data = ${Buffer.from(packReplay(replay))} where recording_id = ${row.id}`
    changed++
  }
  return changed
}

/** Whether a stored replay names the person (for their export). */
export function appearsInReplay(data: Uint8Array, userId: string): boolean {
  const replay = JSON.parse(gunzipSync(data).toString('utf8')) as Replay
  return Boolean(replay.participants[userId]) || replay.events.some((e) => e.userId === userId)
}
