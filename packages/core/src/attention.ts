/** Who may want help now: a prompt for the instructor, worked out from the analytics figures. */
import { MINUTE_MS, type ParticipantAnalytics } from './analytics.js'

export interface AttentionOptions {
  /** Now (ms). */
  now: number
  /** A learner whose last this-many runs all failed is listed (default 3). */
  failingRuns?: number
  /** A learner connected but without activity for this many minutes while others are active (default 5). */
  idleMinutes?: number
}

export type AttentionReason = { kind: 'failing-runs'; runs: number; message: string } | { kind: 'idle'; minutes: number; message: string }

export interface AttentionItem {
  userId: string
  name: string
  reasons: AttentionReason[]
}

type AttentionInput = Pick<ParticipantAnalytics, 'userId' | 'name' | 'role' | 'online' | 'lastActivityAt' | 'connectedSince' | 'recentRuns'>

/**
 * Learners who may want help: their last runs keep failing, or they have been connected without
 * editing, running or chatting for a while when someone else in the room was active in that time.
 * Only learners (instructors are teaching; observers cannot act). A prompt, never a grade.
 */
export function needsAttention(participants: readonly AttentionInput[], opts: AttentionOptions): AttentionItem[] {
  const failing = Math.max(1, opts.failingRuns ?? 3)
  const idleMs = Math.max(1, opts.idleMinutes ?? 5) * MINUTE_MS
  const ms = (s: string | null) => (s === null ? null : Date.parse(s))
  const roomActive = participants.some((p) => {
    const at = ms(p.lastActivityAt)
    return at !== null && opts.now - at < idleMs
  })
  const out: AttentionItem[] = []
  for (const p of participants) {
    if (p.role !== 'learner') continue
    const reasons: AttentionReason[] = []
    const runs = p.recentRuns.slice(0, failing)
    if (runs.length === failing && runs.every((ok) => !ok)) {
      reasons.push({ kind: 'failing-runs', runs: failing, message: `Their last ${failing} runs failed.` })
    }
    const since = Math.max(ms(p.lastActivityAt) ?? -Infinity, ms(p.connectedSince) ?? -Infinity)
    if (p.online && roomActive && Number.isFinite(since) && opts.now - since >= idleMs) {
      const minutes = Math.floor((opts.now - since) / MINUTE_MS)
      reasons.push({ kind: 'idle', minutes, message: `No edits, runs or messages for ${minutes} minutes while the room is active.` })
    }
    if (reasons.length) out.push({ userId: p.userId, name: p.name, reasons })
  }
  return out
}
