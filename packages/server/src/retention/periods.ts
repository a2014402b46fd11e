import * as v from 'valibot'
import { MAX_RETENTION_DAYS, RETENTION_KINDS, type RetentionKind } from '@session-kit/core/api'
import type { RetentionConfig } from '../config.js'
import { badRequest } from '../http/errors.js'

/*
 * A session's own retention periods (PATCH /v1/sessions/:sid `retention`), set by its owner.
 *
 * A session may only keep things for a shorter time than the deployment does: the deployment's
 * periods are the school's policy (what its data-protection officer signed off), and a room must
 * not outlive it. Where the deployment keeps a kind forever, a session may set any period. The job
 * applies the shorter of the two, so a deployment that shortens its period later wins again.
 */

const Days = (kind: RetentionKind) =>
  v.nullable(
    v.pipe(
      v.number(`retention.${kind} must be a number of days, or null for the server's period`),
      v.integer(`retention.${kind} must be a whole number of days`),
      v.minValue(1, `retention.${kind} must be at least 1 day`),
      v.maxValue(MAX_RETENTION_DAYS, `retention.${kind} must be at most ${MAX_RETENTION_DAYS} days`),
    ),
  )

/** `retention` of PATCH /v1/sessions/:sid: days per kind; null goes back to the deployment's period; an unknown kind is refused (a typo would otherwise keep data). */
export const RetentionPatchSchema = v.pipe(
  // An array is an object too, and would read as "no change".
  v.custom<Record<string, unknown>>((x) => typeof x === 'object' && x !== null && !Array.isArray(x), 'retention must be an object: {recordings?, chat?, events?, snapshots?, session?} in days'),
  v.strictObject(
    {
      recordings: v.optional(Days('recordings')),
      chat: v.optional(Days('chat')),
      events: v.optional(Days('events')),
      snapshots: v.optional(Days('snapshots')),
      session: v.optional(Days('session')),
    },
    `retention takes only ${RETENTION_KINDS.join(', ')}`,
  ),
)
export type RetentionPatch = v.InferOutput<typeof RetentionPatchSchema>

const WORDS: Record<RetentionKind, string> = {
  recordings: 'recordings',
  chat: 'chat messages',
  events: 'analytics events',
  snapshots: 'snapshots',
  session: 'sessions after their last activity',
}

/** How a period in seconds reads in a sentence: whole days where it is, hours otherwise. */
export function periodWords(seconds: number): string {
  if (seconds % 86400 === 0) return seconds === 86400 ? '1 day' : `${seconds / 86400} days`
  const hours = seconds / 3600
  return hours === 1 ? '1 hour' : `${Math.round(hours * 100) / 100} hours`
}

/** Refuse a period longer than the deployment's (400 `retention_too_long`, naming the field and the limit). */
export function assertShorterThanDeployment(patch: RetentionPatch, config: RetentionConfig): void {
  for (const kind of RETENTION_KINDS) {
    const days = patch[kind]
    const limit = config[kind]
    if (days == null || limit === undefined || days * 86400 <= limit) continue
    throw badRequest(
      `retention.${kind}: this server keeps ${WORDS[kind]} for ${periodWords(limit)}; a session can only keep them for less (or send null to follow the server).`,
      'retention_too_long',
      { field: `retention.${kind}`, maxDays: Math.floor(limit / 86400) },
    )
  }
}
