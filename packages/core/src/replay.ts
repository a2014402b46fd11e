/** The replay format of recordings: built by the server, played by `<session-player>`. */

import type { Splice } from './document.js'
import type { LectureChange } from './lecture.js'

export type ReplayEvent =
  | { t: number; type: 'edit'; userId: string; splices: Splice[]; created?: string[]; removed?: string[] }
  | { t: number; type: 'chat'; userId: string; text: string }
  | {
      t: number
      type: 'run'
      userId: string
      file: string
      ok: boolean
      errors: number
      timedOut: boolean
      durationMs: number
      /** Run by the server from the stored code (see `RunInfo`), with its outcome and test counts. */
      verified?: true
      status?: string
      tests?: { passed: number; failed: number }
    }
  | { t: number; type: 'join' | 'leave'; userId: string }
  /** Lecture mode: a hand raised or lowered, follow on or off, a spotlight started or ended (`userId`: whose hand, who led, who was shown; questions are never recorded). */
  | { t: number; type: 'lecture'; userId: string; change: LectureChange }

/** A recording: the files at the start, events on the recording's clock (ms, pauses left out), keyframes to seek from. */
export interface Replay {
  version: 1
  recording: { id: string; sessionId: string; sessionTitle: string; title: string; description: string | null; startedAt: string; durationMs: number }
  files: Record<string, string>
  events: ReplayEvent[]
  /** The files just before `events[index]`, every few hundred edits (the first at index 0). */
  keyframes: { index: number; t: number; files: Record<string, string> }[]
  /**
   * Who appears in the events, by the `userId` they carry. A recording made under a policy
   * (`notice`, `consent`) shows people only while they may be recorded: the edits of anyone else
   * carry one shared id whose entry is `anonymous: true` ("A participant who did not consent"),
   * with no name, id or cursor of theirs; their chat, runs, joins and hands are left out.
   */
  participants: Record<string, { name: string; color: string; anonymous?: true }>
}

/** The name a replay gives the edits of people who may not be recorded by name, per policy. */
export const ANONYMOUS_AUTHOR = { consent: 'A participant who did not consent', notice: 'A participant not yet told of the recording' } as const

export function applySplices(files: Record<string, string>, splices: readonly Splice[]): Record<string, string> {
  for (const s of splices) {
    const t = files[s.file] ?? ''
    files[s.file] = t.slice(0, s.at) + s.ins + t.slice(s.at + s.del)
  }
  return files
}

/** Apply one event to the files (only edits change them). */
export function applyReplayEvent(files: Record<string, string>, e: ReplayEvent): Record<string, string> {
  if (e.type !== 'edit') return files
  for (const f of e.created ?? []) files[f] = files[f] ?? ''
  applySplices(files, e.splices)
  for (const f of e.removed ?? []) if (!e.created?.includes(f)) delete files[f]
  return files
}

/**
 * The files at recording time `t` and how many events that includes: from the last keyframe at or
 * before `t`, then the events after it — a few hundred string splices at most, whatever the length.
 */
export function replayStateAt(replay: Replay, t: number): { files: Record<string, string>; index: number } {
  const frames = replay.keyframes
  let lo = 0
  let hi = frames.length - 1
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1
    if (frames[mid]!.t <= t) lo = mid
    else hi = mid - 1
  }
  // Several events can share a time: a keyframe is only valid if nothing before it is later than t.
  while (lo > 0 && (replay.events[frames[lo]!.index - 1]?.t ?? 0) > t) lo--
  const frame = frames[lo] ?? { index: 0, files: replay.files }
  const files = { ...frame.files }
  let index = frame.index
  while (index < replay.events.length && replay.events[index]!.t <= t) applyReplayEvent(files, replay.events[index++]!)
  return { files, index }
}
