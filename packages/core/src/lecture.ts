import * as v from 'valibot'

/**
 * Lecture mode, in any shared room: an instructor others follow, raised hands, and a spotlight on
 * one participant's code. The room's lecture state is small and sent whole (`welcome.lecture` and
 * the `lecture` event) after every change, so a page never has to merge partial updates.
 */

/** Longest question someone may add to a raised hand, in characters. */
export const MAX_QUESTION_LENGTH = 280

/** One raised hand, as instructors see the queue (oldest first). */
export interface RaisedHand {
  userId: string
  name: string
  /** The question asked with the hand ('' when none). */
  question: string
  /** When the hand went up (ISO 8601, the server's clock): the queue's order and the time waiting. */
  raisedAt: string
}

/**
 * Whom a spotlight shows, read-only, to everyone: one participant's cursor region, or — with
 * `sessionId` — one learner's assignment room (then `userId` and `name` are that room's learner,
 * and its code arrives in `spotlight-text` events).
 */
export interface Spotlight {
  userId: string
  name: string
  /** The learner's assignment room shown, when the spotlight shows a room rather than a participant here. */
  sessionId?: string
  /** The instructor who started it. */
  by: string
  at: string
}

export interface LectureState {
  /** The instructor everyone follows (their file and cursor), or null when nobody leads. */
  follow: { userId: string; name: string; since: string } | null
  spotlight: Spotlight | null
  /**
   * Raised hands, oldest first. Instructors get every hand; anyone else only their own (others'
   * questions are not theirs to read), with `handCount` saying how many are up in all.
   */
  hands: RaisedHand[]
  handCount: number
}

export const NO_LECTURE: LectureState = { follow: null, spotlight: null, hands: [], handCount: 0 }

/** A user id as tokens carry it (`sub`). */
const UserIdSchema = v.pipe(
  v.string('userId must be a string'),
  v.minLength(1, 'userId must not be empty'),
  v.maxLength(200, 'userId is at most 200 characters'),
  // No token's `sub` holds one (PostgreSQL cannot store it), so no id a server looks up may.
  v.regex(/^[^\u0000]*$/, 'userId cannot contain the NUL character'),
)

/** A session id as the spotlight names a learner's room. */
const SessionIdSchema = v.pipe(
  v.string('sessionId must be a string'),
  v.minLength(1, 'sessionId must not be empty'),
  v.maxLength(200, 'sessionId is at most 200 characters'),
  v.regex(/^[^\u0000-\u001f\u007f]*$/, 'sessionId cannot contain control characters'),
)

/** The most text of one file a room spotlight sends; a longer file is shown as too long to show. */
export const MAX_SPOTLIGHT_TEXT = 64 * 1024

/**
 * A spotlit assignment room's code, as everyone in the lecture room sees it: the file shown (the
 * first starter file, then whichever was changed last) and its whole text, with the range changed
 * since the previous frame (UTF-16 offsets into `text`). `tooLong`: the file is longer than
 * MAX_SPOTLIGHT_TEXT, so `text` is empty.
 */
export interface SpotlightText {
  type: 'spotlight-text'
  sessionId: string
  file: string
  text: string
  changed?: { from: number; to: number }
  tooLong?: true
}

export const QuestionSchema = v.pipe(
  v.string('a question is text'),
  v.regex(/^[^\u0000-\u0008\u000b-\u001f\u007f]*$/, 'a question cannot contain control characters'),
  v.trim(),
  v.maxLength(MAX_QUESTION_LENGTH, `a question is at most ${MAX_QUESTION_LENGTH} characters`),
)

/** The lecture's client events (part of `ClientEventSchema`). */
export const LectureEventSchemas = [
  /** An instructor starts or stops leading: everyone's editor follows their file and cursor. */
  v.object({ type: v.literal('follow'), on: v.boolean('on must be true or false') }),
  /**
   * Raise or lower a hand. Without `userId`, one's own; with it, someone else's (instructors only);
   * `all: true` lowers every hand (instructors only).
   */
  v.object({
    type: v.literal('hand'),
    raised: v.boolean('raised must be true or false'),
    question: v.optional(QuestionSchema),
    userId: v.optional(UserIdSchema),
    all: v.optional(v.boolean('all must be true or false')),
  }),
  /**
   * An instructor shows one participant's code to everyone (`userId`), or ends it (`null`). With
   * `sessionId`, what is shown is that learner's assignment room (an instructor of its assignment
   * only); `userId` is then ignored and may be null.
   */
  v.object({ type: v.literal('spotlight'), userId: v.nullable(UserIdSchema), sessionId: v.optional(SessionIdSchema) }),
] as const

/** What changed, so a page can announce it once ("Ada raised a hand"); absent on a welcome. */
export type LectureChange =
  | { kind: 'follow-started' | 'follow-stopped'; userId: string; name: string }
  | { kind: 'hand-raised' | 'hand-lowered'; userId: string; name: string; by?: string }
  | { kind: 'hands-cleared'; by: string }
  /** `sessionId`: the spotlight shows (or showed) that learner's assignment room. */
  | { kind: 'spotlight-started' | 'spotlight-stopped'; userId: string; name: string; sessionId?: string }
