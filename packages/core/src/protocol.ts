import * as v from 'valibot'
import { FileNameSchema } from './ids.js'
import type { Permission } from './permissions.js'
import type { Role } from './roles.js'
import type { TextSplice } from './document.js'
import type { ChatMessage, SnapshotInfo } from './api.js'
import { LectureEventSchemas, type LectureChange, type LectureState, type SpotlightText } from './lecture.js'

/** Wire protocol versions this build speaks. */
export const PROTOCOL_VERSION = 2
export const SUPPORTED_PROTOCOLS = { min: 1, max: 2 } as const

/**
 * How a connection takes part in the document (protocol 2):
 * - `full`: an Automerge peer (binary frames are standard Automerge sync messages);
 * - `view`: a light viewer — the text as JSON (`text`, then `splices`), no Automerge at all;
 * - `events`: no document, events only.
 * Protocol 1's `sync: true` is `full`, `sync: false` is `events`.
 */
export type SyncMode = 'full' | 'view' | 'events'

/** Largest frame a client may send (binary sync message or JSON event), in bytes. */
export const MAX_FRAME_BYTES = 1024 * 1024

/**
 * WebSocket close codes. `retry` tells a client what to do: reconnect at once, back off, or stop.
 */
export const CloseCode = {
  PermissionsChanged: 4001,
  WriteRejected: 4003,
  Malformed: 4400,
  Unauthorized: 4401,
  Forbidden: 4403,
  NotOpenYet: 4404,
  HelloTimeout: 4408,
  Removed: 4409,
  TooLarge: 4413,
  RateLimited: 4429,
} as const
export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode]

export type RetryPolicy = 'now' | 'backoff' | 'never'

export function retryPolicy(code: number): RetryPolicy {
  switch (code) {
    case CloseCode.PermissionsChanged:
    case CloseCode.WriteRejected:
      return 'now'
    case CloseCode.NotOpenYet:
    case CloseCode.HelloTimeout:
    case CloseCode.RateLimited:
      return 'backoff'
    case CloseCode.Malformed:
    case CloseCode.Unauthorized:
    case CloseCode.Forbidden:
    case CloseCode.Removed:
    case CloseCode.TooLarge:
    case 1009: // the WebSocket layer's own "message too big", for frames it will not even read
      return 'never'
    default:
      // 1000-range closes (server restart, network loss) are worth retrying with backoff.
      return 'backoff'
  }
}

// ---- client → server ----------------------------------------------------------------------

export const HelloSchema = v.object({
  type: v.literal('hello'),
  token: v.pipe(v.string('token must be a string'), v.minLength(1, 'token is missing'), v.maxLength(8192, 'token is too long')),
  protocol: v.pipe(v.number('protocol must be a number'), v.integer()),
  sync: v.optional(v.boolean('sync must be true or false'), true),
  /** Protocol 2: how this connection takes part (see SyncMode); overrides `sync`. */
  mode: v.optional(v.picklist(['full', 'view', 'events'], 'mode must be "full", "view" or "events"')),
  /**
   * Protocol 2, with `mode: "full"`: the server may make this connection a light viewer while it
   * cannot edit (observers, muted or locked learners); `welcome.mode` says which it got.
   */
  allowView: v.optional(v.boolean('allowView must be true or false'), false),
})
export type Hello = v.InferOutput<typeof HelloSchema>

const Offset = v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(10_000_000))

/** A participant's cursor: Automerge cursors (stable under concurrent edits) or plain offsets. */
export const CursorSchema = v.object({
  file: FileNameSchema,
  anchor: v.union([Offset, v.pipe(v.string(), v.maxLength(200))]),
  head: v.union([Offset, v.pipe(v.string(), v.maxLength(200))]),
})
export type Cursor = v.InferOutput<typeof CursorSchema>

/** Longest chat message, in characters. */
export const MAX_CHAT_LENGTH = 2000
/** Longest run output kept and shared, in characters. */
export const MAX_RUN_OUTPUT = 4000

export const ChatTextSchema = v.pipe(
  v.string('a chat message is text'),
  v.regex(/^[^\u0000]*$/, 'a chat message cannot contain the NUL character'),
  v.trim(),
  v.minLength(1, 'a chat message cannot be empty'),
  v.maxLength(MAX_CHAT_LENGTH, `a chat message is at most ${MAX_CHAT_LENGTH} characters`),
)

/** What a participant's run produced, as reported to the room. */
export const RunReportSchema = v.object({
  file: FileNameSchema,
  language: v.pipe(v.string(), v.regex(/^[^\u0000-\u001f\u007f]*$/, 'language is a name'), v.maxLength(40)),
  ok: v.boolean(),
  errors: v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(1_000_000)),
  durationMs: v.pipe(v.number(), v.minValue(0), v.maxValue(3_600_000)),
  timedOut: v.optional(v.boolean(), false),
  // What a program printed may hold anything, NUL included, which PostgreSQL cannot store in text.
  output: v.pipe(v.string(), v.maxLength(MAX_RUN_OUTPUT, `run output is capped at ${MAX_RUN_OUTPUT} characters`), v.transform((s) => s.replaceAll('\u0000', '\uFFFD'))),
  /** A run of tests in the browser: how many passed and failed (the room hears "ran tests on main.py — 3 of 4 passed"). */
  tests: v.optional(
    v.object({
      passed: v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(100_000)),
      failed: v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(100_000)),
    }),
  ),
})
export type RunReport = v.InferOutput<typeof RunReportSchema>

export const ClientEventSchema = v.variant('type', [
  v.object({ type: v.literal('presence'), cursor: v.nullable(CursorSchema) }),
  v.object({ type: v.literal('token'), token: v.pipe(v.string(), v.minLength(1), v.maxLength(8192)) }),
  v.object({ type: v.literal('ping') }),
  v.object({ type: v.literal('chat'), text: ChatTextSchema }),
  v.object({ type: v.literal('run'), run: RunReportSchema }),
  /** Protocol 2: switch this connection between a full Automerge peer and a light viewer. */
  v.object({ type: v.literal('mode'), mode: v.picklist(['full', 'view'], 'mode must be "full" or "view"') }),
  /** Lecture mode: follow, raise or lower a hand, spotlight (see lecture.ts). */
  ...LectureEventSchemas,
])
export type ClientEvent = v.InferOutput<typeof ClientEventSchema>

// ---- server → client ----------------------------------------------------------------------

export interface ParticipantInfo {
  userId: string
  name: string
  role: Role
  color: string
  owner: boolean
  muted: boolean
  avatar?: string
  hidden?: boolean
}

/**
 * How a session's recordings treat the people in it: `notice` — everyone is told the session is
 * being recorded (on joining, or when it starts) and is recorded from then on; `consent` — each
 * person is asked, and only those who allowed it are recorded by name (everyone else's edits
 * appear anonymously; their chat, runs and name are left out).
 */
export const RECORDING_POLICIES = ['notice', 'consent'] as const
export type RecordingPolicy = (typeof RECORDING_POLICIES)[number]

export interface SessionInfo {
  id: string
  title: string
  language: string
  editingLocked: boolean
  /** The session is being recorded right now (everyone sees "This session is being recorded"). */
  recording: boolean
  /** off, recording or paused. */
  recordingState: 'off' | 'recording' | 'paused'
  /** How recordings treat the people here (absent from older servers: `notice`). */
  recordingPolicy?: RecordingPolicy
  /**
   * Under `consent`: this participant's own choice — true (recorded by name), false (left out), null
   * (not decided yet: left out until they allow it). Sent to each connection as its own; absent
   * under `notice`. A change comes as a `session` event without a reason.
   */
  recordingConsent?: boolean | null
}

export interface Welcome {
  type: 'welcome'
  protocol: number
  /** Protocol 2: how this connection takes part (full, view or events). */
  mode?: SyncMode
  participant: ParticipantInfo
  permissions: Permission[]
  session: SessionInfo
  participants: PresenceInfo[]
  /** Lecture mode: who leads, raised hands, the spotlight (as this participant may see them). */
  lecture?: LectureState
}

/** What the room knows about someone who is here now. */
export interface PresenceInfo extends ParticipantInfo {
  cursor: Cursor | null
}

export type ErrorCode =
  | 'malformed'
  | 'unsupported_protocol'
  | 'forbidden'
  | 'rate_limited'
  | 'too_large'
  | 'invalid_change'
  | 'document_full'
  | 'cooling_down'
  | 'actor_mismatch'
  | 'token_invalid'
  | 'token_expired'
  | 'internal'

export interface ServerError {
  type: 'error'
  code: ErrorCode | string
  message: string
  permission?: Permission
  /** With `rate_limited` before a 4429 close: when to reconnect (the edits wait in the replica). */
  retryAfterMs?: number
}

/** What a run the server made itself ends as (`queued` and `running` until then). */
export const VERIFIED_RUN_STATUSES = ['queued', 'running', 'passed', 'failed', 'error', 'timeout'] as const
export type VerifiedRunStatus = (typeof VERIFIED_RUN_STATUSES)[number]

export interface RunInfo extends RunReport {
  id: number
  userId: string
  name: string
  at: string
  /** The server ran the stored code itself (`POST …/runs`): the result is not the browser's word. */
  verified?: true
  /** The verified run's id, for `GET …/runs/:id` (its tests, output and the heads it ran at). */
  runId?: string
  kind?: 'program' | 'tests'
  status?: VerifiedRunStatus
  /** A tests run's results, hidden tests included. */
  tests?: { passed: number; failed: number }
}

/**
 * A snapshot was saved, deleted or restored for everyone, by `by`. Sent to those who may see it (a
 * learner's personal one: them and instructors); `snapshot` comes with `created`.
 */
export interface SnapshotEvent {
  type: 'snapshot'
  change: 'created' | 'deleted' | 'restored'
  id: string
  title: string
  by: { userId: string; name: string }
  snapshot?: SnapshotInfo
}

export type ServerEvent =
  | Welcome
  | ServerError
  | { type: 'ack'; changes: string[] }
  | { type: 'presence'; participant: PresenceInfo }
  | { type: 'joined'; participant: PresenceInfo }
  | { type: 'left'; userId: string }
  | { type: 'permissions'; participant: ParticipantInfo; permissions: Permission[]; session: SessionInfo; reason?: string }
  | { type: 'session'; session: SessionInfo; reason?: string }
  | { type: 'token'; ok: boolean; expiresAt?: number; message?: string }
  | { type: 'pong' }
  | { type: 'chat'; message: ChatMessage }
  | { type: 'chat-deleted'; id: number }
  | { type: 'run'; run: RunInfo }
  | { type: 'rate_limited'; what: 'chat' | 'run' | 'hand'; retryAfterMs: number; message: string }
  | { type: 'invitation'; id: string; status: string }
  | SnapshotEvent
  /** Protocol 2: this connection is now a full peer or a light viewer (sent on every switch). */
  | { type: 'mode'; mode: 'full' | 'view'; reason?: string }
  /** Protocol 2, view: every file's whole text at `heads` (on joining, and after files are added, renamed or deleted). */
  | { type: 'text'; files: Record<string, string>; heads: string[] }
  /** Protocol 2, view: one durable batch of edits, in order; the same bytes go to every viewer. */
  | { type: 'splices'; heads: string[]; splices: TextSplice[] }
  /**
   * Protocol 2: presence of several people at once, at most ~10 times a second. For a light viewer,
   * cursors are UTF-16 offsets into the text as of the last `splices` frame.
   */
  | { type: 'presences'; participants: PresenceInfo[] }
  /** Lecture mode changed (follow, hands, spotlight): the whole state, as this participant may see it, and what changed. */
  | { type: 'lecture'; lecture: LectureState; change?: LectureChange }
  /**
   * While the spotlight shows a learner's assignment room: that room's shown file, after each change
   * (at most about twice a second), and right after the welcome of someone joining meanwhile.
   */
  | SpotlightText
