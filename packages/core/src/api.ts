/**
 * The HTTP API's response bodies, written once: the server's routes return these types (so the
 * compiler holds them to the contract), a test parses the real server's answers with these schemas
 * (`parseApi`), and the elements read them as these types. docs/api.md lists the same fields; a
 * test keeps the two in step. The schemas are the `@session-kit/core/api` entry, not the main one:
 * a page reads the types and never downloads the schemas (the browser casts wire messages too).
 */
import * as v from 'valibot'
import type { AnalyticsResponse, OwnActivity } from './analytics.js'
import { ANALYTICS_RANGES } from './analytics.js'
import { SUBMIT_POLICIES } from './assignment.js'
import { LANGUAGES } from './ids.js'
import { Permission } from './permissions.js'
import { RECORDING_POLICIES, VERIFIED_RUN_STATUSES } from './protocol.js'
import { ROLES, type Role } from './roles.js'

/** A moment, as the API writes it: an ISO 8601 timestamp in UTC (`2025-03-01T09:30:00.000Z`). */
const Instant = v.pipe(v.string('a time is text'), v.isoTimestamp('a time is an ISO 8601 timestamp'))
const RoleSchema = v.picklist(ROLES, `role must be one of ${ROLES.join(', ')}`)
const Count = v.pipe(v.number('a count is a number'), v.integer('a count is a whole number'), v.minValue(0, 'a count is never negative'))
const Files = v.record(v.string(), v.string('a file’s text is text'))
const Heads = v.array(v.string('a head is a change hash'))

// ---- errors ---------------------------------------------------------------------------------

/** Every refusal: `{error: {code, message}}`, sometimes with more (`permission`, `field`, `retryAfterSeconds`…). */
export const ErrorBodySchema = v.object({
  error: v.looseObject({ code: v.string('error.code is text'), message: v.string('error.message is text') }),
})
export type ErrorBody = v.InferOutput<typeof ErrorBodySchema>

// ---- sessions -------------------------------------------------------------------------------

/**
 * What a retention period applies to: recordings (with their replays), chat messages, analytics
 * events (and their per-minute rollups), snapshots, and the session itself, counted from its last
 * activity (docs/guides/privacy.md).
 */
export const RETENTION_KINDS = ['recordings', 'chat', 'events', 'snapshots', 'session'] as const
export type RetentionKind = (typeof RETENTION_KINDS)[number]

/** The longest period a session may set, in days (a hundred years). */
export const MAX_RETENTION_DAYS = 36_500

const RetentionDays = v.pipe(
  v.number('a retention period is a number of days'),
  v.integer('a retention period is a whole number of days'),
  v.minValue(1, 'a retention period is at least 1 day'),
  v.maxValue(MAX_RETENTION_DAYS, `a retention period is at most ${MAX_RETENTION_DAYS} days`),
)

/** A session's own retention periods in days, set by its owner; a kind left out follows the deployment's period. */
export const SessionRetentionSchema = v.object({
  recordings: v.optional(RetentionDays),
  chat: v.optional(RetentionDays),
  events: v.optional(RetentionDays),
  snapshots: v.optional(RetentionDays),
  session: v.optional(RetentionDays),
})
export type SessionRetention = v.InferOutput<typeof SessionRetentionSchema>

/** A session as the host routes return it (`POST /v1/sessions`, `PATCH`, `lock`, `unlock`, the list). */
export const SessionEntrySchema = v.object({
  id: v.string(),
  title: v.string(),
  language: v.picklist(LANGUAGES),
  ownerId: v.string(),
  editingLocked: v.boolean(),
  /** How recordings treat the people in it: `notice` or `consent` (see `RecordingPolicy`). */
  recordingPolicy: v.picklist(RECORDING_POLICIES),
  /** Instructors see "Participant N" instead of names everywhere in the session's analytics. */
  pseudonymize: v.boolean(),
  createdAt: Instant,
  updatedAt: Instant,
  /** The session's own retention periods (the deployment's apply to every kind left out). */
  retention: SessionRetentionSchema,
})
export type SessionEntry = v.InferOutput<typeof SessionEntrySchema>

/** `GET /v1/sessions?limit&after`: a page of sessions; `next` continues after the last one (null at the end). */
export const SessionListSchema = v.object({ sessions: v.array(SessionEntrySchema), next: v.nullable(v.string()) })
export type SessionList = v.InferOutput<typeof SessionListSchema>

/** `GET /v1/sessions/:sid`: the session and who the caller is in it. */
export const SessionViewSchema = v.object({
  ...SessionEntrySchema.entries,
  you: v.object({
    userId: v.string(),
    name: v.string(),
    role: RoleSchema,
    owner: v.boolean(),
    muted: v.boolean(),
    permissions: v.array(v.enum(Permission, 'not a permission this version knows')),
  }),
})
export type SessionView = v.InferOutput<typeof SessionViewSchema>

/** The code of a room: every file's text and the document's heads (`GET …/document`, the file routes). */
export const DocumentTextSchema = v.object({ files: Files, heads: Heads })
export type DocumentText = v.InferOutput<typeof DocumentTextSchema>

// ---- participants ---------------------------------------------------------------------------

/** A participant as `GET …/participants` lists them (and the moderation routes return them). */
export const ParticipantEntrySchema = v.object({
  userId: v.string(),
  name: v.string(),
  /** The role they act with: an instructor's override, else their token's. */
  role: RoleSchema,
  tokenRole: RoleSchema,
  color: v.string(),
  avatar: v.nullable(v.string()),
  owner: v.boolean(),
  online: v.boolean(),
  lastSeenAt: v.nullable(Instant),
  muted: v.boolean(),
  hidden: v.boolean(),
  banned: v.boolean(),
})
export type ParticipantEntry = v.InferOutput<typeof ParticipantEntrySchema>

export const ParticipantListSchema = v.object({ participants: v.array(ParticipantEntrySchema) })
export type ParticipantList = v.InferOutput<typeof ParticipantListSchema>

// ---- chat -----------------------------------------------------------------------------------

/** A chat message, over HTTP (`GET …/chat`) and in the room's `chat` event. */
export const ChatMessageSchema = v.object({
  id: v.number(),
  userId: v.string(),
  name: v.string(),
  role: RoleSchema,
  color: v.string(),
  text: v.string(),
  at: Instant,
})
export type ChatMessage = v.InferOutput<typeof ChatMessageSchema>

/** `GET …/chat`: oldest first; `before` pages further back (null at the start of the chat). */
export const ChatPageSchema = v.object({ messages: v.array(ChatMessageSchema), before: v.nullable(v.number()) })
export type ChatPage = v.InferOutput<typeof ChatPageSchema>

// ---- invitations ----------------------------------------------------------------------------

export const INVITATION_STATUSES = ['pending', 'accepted', 'declined', 'expired', 'revoked'] as const
export type InvitationStatus = (typeof INVITATION_STATUSES)[number]
const InvitationStatusSchema = v.picklist(INVITATION_STATUSES, `status must be one of ${INVITATION_STATUSES.join(', ')}`)

/** An invitation as `GET …/invitations` lists it (and `DELETE` returns it): never its link. */
export const InvitationSchema = v.object({
  id: v.string(),
  email: v.string(),
  name: v.nullable(v.string()),
  role: RoleSchema,
  /** A pending invitation past its expiry reads as `expired`. */
  status: InvitationStatusSchema,
  inviterName: v.string(),
  createdAt: Instant,
  expiresAt: Instant,
  sentAt: Instant,
  respondedAt: v.nullable(Instant),
})
export type Invitation = v.InferOutput<typeof InvitationSchema>

/** An invitation just created or resent: with its link (the only time the link is shown). */
export const IssuedInvitationSchema = v.object({ ...InvitationSchema.entries, link: v.string() })
export type IssuedInvitation = v.InferOutput<typeof IssuedInvitationSchema>

/** An invitation as an instructor's list holds it: the link while it was just created or resent. */
export type InvitationEntry = Invitation & { link?: string }

export const InvitationListSchema = v.object({ invitations: v.array(InvitationSchema) })
export type InvitationList = v.InferOutput<typeof InvitationListSchema>

export const BULK_INVITE_RESULTS = ['created', 'invalid', 'already_invited', 'banned', 'rate_limited'] as const

/** `POST …/invitations` with several addresses: one result per address, in the order given. */
export const BulkInvitationSchema = v.object({
  results: v.array(
    v.object({
      email: v.string(),
      result: v.picklist(BULK_INVITE_RESULTS),
      message: v.optional(v.string()),
      invitation: v.optional(IssuedInvitationSchema),
    }),
  ),
})
export type BulkInvitation = v.InferOutput<typeof BulkInvitationSchema>
export type BulkInvitationResult = BulkInvitation['results'][number]

/** `GET /v1/invitations/:token`: what the invitee sees before answering. */
export const InvitationInfoSchema = v.object({
  id: v.string(),
  sessionId: v.string(),
  sessionTitle: v.string(),
  role: RoleSchema,
  inviterName: v.string(),
  email: v.string(),
  name: v.nullable(v.string()),
  status: InvitationStatusSchema,
  expiresAt: Instant,
})
export type InvitationInfo = v.InferOutput<typeof InvitationInfoSchema>

/** `POST /v1/invitations/:token/accept`: a server-signed room token for the guest. */
export const InvitationAcceptedSchema = v.object({ token: v.string(), sessionId: v.string(), role: RoleSchema, userId: v.string(), name: v.string() })
export type InvitationAccepted = v.InferOutput<typeof InvitationAcceptedSchema>

/** `POST /v1/invitations/:token/decline`. */
export const InvitationDeclinedSchema = v.object({ status: v.literal('declined') })
export type InvitationDeclined = v.InferOutput<typeof InvitationDeclinedSchema>

/** `POST /v1/tokens/refresh`: a fresh guest token. */
export const TokenRefreshedSchema = v.object({ token: v.string(), sessionId: v.string(), role: RoleSchema })
export type TokenRefreshed = v.InferOutput<typeof TokenRefreshedSchema>

// ---- snapshots ------------------------------------------------------------------------------

/** A snapshot as listed: everything but its files (`GET …/snapshots`, `POST`, and the `snapshot` event). */
export const SnapshotInfoSchema = v.object({
  id: v.string(),
  title: v.string(),
  description: v.nullable(v.string()),
  createdBy: v.string(),
  creatorName: v.string(),
  // A learner’s snapshot is personal: seen by them and instructors only.
  creatorRole: RoleSchema,
  createdAt: Instant,
  heads: Heads,
  fileNames: v.array(v.string()),
})
export type SnapshotInfo = v.InferOutput<typeof SnapshotInfoSchema>

/** `GET …/snapshots/:id`: the snapshot with its files. */
export const SnapshotSchema = v.object({ ...SnapshotInfoSchema.entries, files: Files })
export type Snapshot = v.InferOutput<typeof SnapshotSchema>

/** A snapshot as the element lists it: `files` once it was opened. */
export type SnapshotEntry = SnapshotInfo & { files?: Record<string, string> }

export const SnapshotListSchema = v.object({ snapshots: v.array(SnapshotInfoSchema) })
export type SnapshotList = v.InferOutput<typeof SnapshotListSchema>

/** `POST …/snapshots/:id/restore`: the room's code after the restore. */
export const SnapshotRestoredSchema = v.object({ restored: v.string(), heads: Heads, files: Files })
export type SnapshotRestored = v.InferOutput<typeof SnapshotRestoredSchema>

// ---- verified runs and hidden test files ----------------------------------------------------

const RunStatusSchema = v.picklist(VERIFIED_RUN_STATUSES, `status must be one of ${VERIFIED_RUN_STATUSES.join(', ')}`)
const RunOutputSchema = v.array(v.object({ stream: v.picklist(['stdout', 'stderr']), text: v.string() }))

/**
 * A run the server made itself from the stored code (`GET …/runs/:id`, the list, and `POST`'s
 * answer once read back). For learners and observers, hidden tests come as "Hidden test 1"… with
 * no message, and what the hidden tests printed is withheld (`withheld` says so).
 */
export const VerifiedRunSchema = v.object({
  id: v.string(),
  kind: v.picklist(['program', 'tests']),
  file: v.string(),
  language: v.string(),
  status: RunStatusSchema,
  /** The document version the code was read at. */
  heads: Heads,
  output: RunOutputSchema,
  tests: v.array(
    v.object({
      name: v.string(),
      passed: v.boolean(),
      message: v.optional(v.string()),
      durationMs: v.number(),
      file: v.optional(v.string()),
      line: v.optional(v.number()),
      /** From a hidden test file. */
      hidden: v.optional(v.boolean()),
    }),
  ),
  /** 0 until it ends. */
  durationMs: Count,
  verified: v.literal(true),
  /** Why it ended, for `error` and `timeout` ("Stopped after 5 s: the time limit"). */
  reason: v.optional(v.string()),
  /** What is not shown to you, when something is (the hidden tests' output and messages). */
  withheld: v.optional(v.string()),
  /** Instructors: what the run with the hidden tests printed. */
  hiddenOutput: v.optional(RunOutputSchema),
  userId: v.string(),
  name: v.string(),
  createdAt: Instant,
  finishedAt: v.optional(Instant),
})
export type VerifiedRun = v.InferOutput<typeof VerifiedRunSchema>

/** `GET …/runs?limit=`: newest first. */
export const VerifiedRunListSchema = v.object({ runs: v.array(VerifiedRunSchema) })
export type VerifiedRunList = v.InferOutput<typeof VerifiedRunListSchema>

/** `POST …/runs`: accepted; the result comes as a `run` event and from `GET …/runs/:id`. */
export const RunQueuedSchema = v.object({ id: v.string(), status: v.literal('queued') })
export type RunQueued = v.InferOutput<typeof RunQueuedSchema>

/** A hidden test file as listed (`GET …/hidden-files`, and `PUT`'s answer); `size` in bytes (UTF-8). */
export const HiddenFileInfoSchema = v.object({ name: v.string(), size: Count, updatedAt: Instant })
export type HiddenFileInfo = v.InferOutput<typeof HiddenFileInfoSchema>

/** `GET …/hidden-files/:name`: with its text. */
export const HiddenFileSchema = v.object({ ...HiddenFileInfoSchema.entries, text: v.string() })
export type HiddenFile = v.InferOutput<typeof HiddenFileSchema>

export const HiddenFileListSchema = v.object({ files: v.array(HiddenFileInfoSchema) })
export type HiddenFileList = v.InferOutput<typeof HiddenFileListSchema>

// ---- recordings -----------------------------------------------------------------------------

export const RECORDING_STATUSES = ['recording', 'paused', 'processing', 'ready', 'failed'] as const
export type RecordingStatus = (typeof RECORDING_STATUSES)[number]

/** A recording as `GET …/recordings` lists it (and its other routes return it). */
export const RecordingEntrySchema = v.object({
  id: v.string(),
  title: v.string(),
  description: v.nullable(v.string()),
  isPublic: v.boolean(),
  status: v.picklist(RECORDING_STATUSES, `status must be one of ${RECORDING_STATUSES.join(', ')}`),
  createdBy: v.string(),
  creatorName: v.string(),
  startedAt: Instant,
  stoppedAt: v.nullable(Instant),
  /** Recorded time (paused spans left out), counting up while recording. */
  durationSeconds: Count,
  durationMs: Count,
  /** The recorded spans; pauses are the gaps between them. `to` is null for the one still open. */
  spans: v.array(v.object({ from: Instant, to: v.nullable(Instant) })),
  /** Why the replay could not be built, once `failed`. */
  error: v.nullable(v.string()),
  /** The session's recording policy when it started; null for recordings made before policies existed. */
  policy: v.nullable(v.picklist(RECORDING_POLICIES)),
  /**
   * Under `consent`: everyone who allowed recording at some moment of it (only they appear by name
   * in the replay), as of now while it runs, fixed once its replay is built. Null under `notice`.
   */
  consented: v.nullable(v.array(v.object({ userId: v.string(), name: v.string() }))),
})
export type RecordingEntry = v.InferOutput<typeof RecordingEntrySchema>

/** `POST …/recording-consent`: the caller's choice as stored now. */
export const RecordingConsentSchema = v.object({ consent: v.boolean(), decidedAt: Instant })
export type RecordingConsent = v.InferOutput<typeof RecordingConsentSchema>

export const RecordingListSchema = v.object({ recordings: v.array(RecordingEntrySchema) })
export type RecordingList = v.InferOutput<typeof RecordingListSchema>

// ---- analytics (the types stay in analytics.ts; these schemas are held to them) -------------

const Ratio = v.number()
const AnalyticsRangeSchema = v.picklist(ANALYTICS_RANGES, `range must be one of ${ANALYTICS_RANGES.join(', ')}`)
const ParticipantCounts = {
  userId: v.string(),
  name: v.string(),
  role: RoleSchema,
  codeChanges: Count,
  charsInserted: Count,
  charsDeleted: Count,
  executions: Count,
  chatMessages: Count,
  verifiedRuns: Count,
  testsPassed: Count,
  testsFailed: Count,
  handsRaised: Count,
  activeSeconds: Count,
  connectedSeconds: Count,
  lastActivityAt: v.nullable(Instant),
}

/** `GET …/analytics`: the session's figures, per participant and per minute (see docs/analytics.md). */
export const AnalyticsResponseSchema = v.object({
  range: AnalyticsRangeSchema,
  anonymized: v.boolean(),
  from: Instant,
  to: Instant,
  generatedAt: Instant,
  session: v.object({
    durationSeconds: Count,
    participantCount: Count,
    peakParticipants: Count,
    activeParticipants: Count,
    codeChanges: Count,
    serverChanges: Count,
    executions: Count,
    verifiedRuns: Count,
    codeChangesPerMinute: Ratio,
    executionsPerMinute: Ratio,
    averageSessionSeconds: Count,
    engagementScore: Count,
  }),
  participants: v.array(
    v.object({
      ...ParticipantCounts,
      engagementScore: Count,
      online: v.boolean(),
      connectedSince: v.nullable(Instant),
      recentRuns: v.array(v.boolean()),
      /** An LMS's "student view" (only with `includeTestUsers=true`; absent on everyone else). */
      testUser: v.optional(v.boolean()),
    }),
  ),
  seriesStepMinutes: Count,
  series: v.array(v.object({ minute: Instant, codeChanges: Count, executions: Count, activeParticipants: Count })),
}) satisfies v.GenericSchema<unknown, AnalyticsResponse>

/** `GET …/analytics/me`: the caller's own counts, no score. */
export const OwnActivitySchema = v.object({
  range: AnalyticsRangeSchema,
  from: Instant,
  to: Instant,
  ...ParticipantCounts,
}) satisfies v.GenericSchema<unknown, OwnActivity>

// ---- assignments ----------------------------------------------------------------------------

/**
 * An assignment: a template (instructions in Markdown, starter files, tests) and one room per
 * learner. `instructions` is Markdown as the instructor wrote it; render it safely (no raw HTML).
 * `tests.hidden` is there for instructors and the host only; everyone sees how many there are.
 */
export const AssignmentSchema = v.object({
  id: v.string(),
  title: v.string(),
  instructions: v.string(),
  language: v.picklist(LANGUAGES),
  /** The starter files every learner's room begins with. */
  files: Files,
  tests: v.object({ visible: Files, hidden: v.optional(Files) }),
  hiddenTestCount: Count,
  dueAt: v.nullable(Instant),
  submitPolicy: v.picklist(SUBMIT_POLICIES),
  /** Who created it: the owner of every learner's room. */
  ownerId: v.string(),
  /** Closed assignments refuse new rooms and submissions. */
  closed: v.boolean(),
  closedAt: v.nullable(Instant),
  createdAt: Instant,
  updatedAt: Instant,
  /** For a token holder: their own room, once opened (null before). */
  you: v.optional(
    v.object({
      userId: v.string(),
      role: RoleSchema,
      sessionId: v.nullable(v.string()),
      startedAt: v.nullable(Instant),
      submittedAt: v.nullable(Instant),
      /** Starter-file changes offered to them (see `GET …/updates`). */
      pendingUpdates: Count,
    }),
  ),
})
export type Assignment = v.InferOutput<typeof AssignmentSchema>

/** `GET /v1/assignments?limit&after`: oldest id first; `next` continues after the last one (null at the end). */
export const AssignmentListSchema = v.object({ assignments: v.array(AssignmentSchema), next: v.nullable(v.string()) })
export type AssignmentList = v.InferOutput<typeof AssignmentListSchema>

/** `POST …/open` (a learner's own room) and `POST …/rooms/:userId/open` (an instructor into a learner's room). */
export const AssignmentOpenedSchema = v.object({
  sessionId: v.string(),
  /** A server-signed room token for that room (renewed by `POST /v1/tokens/refresh`). */
  token: v.string(),
  role: RoleSchema,
  userId: v.string(),
  /** Whether this open made the room (a learner's first open). */
  created: v.boolean(),
})
export type AssignmentOpened = v.InferOutput<typeof AssignmentOpenedSchema>

/**
 * Where a learner's score stands on its way to the LMS's gradebook (LTI Assignment and Grade
 * Services): `waiting` for the server's own tests run of what they submitted, `sending` (again,
 * with backoff, after a failure: `error` says why), `sent`, or `failed` (given up after a day, or
 * the code could not be tested).
 */
export const GradeStateSchema = v.object({
  status: v.picklist(['waiting', 'sending', 'sent', 'failed']),
  /** Out of `scoreMaximum`: the share of the tests that passed, hidden ones included (null until the run finished). */
  score: v.nullable(v.number()),
  scoreMaximum: v.nullable(v.number()),
  /** Why the last attempt failed, in the LMS's words where it gave them; null when it did not fail. */
  error: v.nullable(v.string()),
  sentAt: v.nullable(Instant),
  /** When a failed send is tried again; null when none is due. */
  retryAt: v.nullable(Instant),
})
export type GradeState = v.InferOutput<typeof GradeStateSchema>

/** A learner's room as `GET …/rooms` lists it (instructors). */
export const AssignmentRoomSchema = v.object({
  userId: v.string(),
  name: v.string(),
  sessionId: v.string(),
  startedAt: Instant,
  /** Their last edit, run or message in the room. */
  lastActivityAt: v.nullable(Instant),
  online: v.boolean(),
  submittedAt: v.nullable(Instant),
  /** Their latest finished verified tests run, hidden tests included. */
  tests: v.nullable(v.object({ runId: v.string(), status: RunStatusSchema, passed: Count, failed: Count, at: Instant })),
  /** Their raised hand in the room, if any. */
  hand: v.nullable(v.object({ raisedAt: Instant, question: v.string() })),
  /** Why they may want help now ("Their last 3 runs failed."); empty when nothing stands out. */
  attention: v.array(v.string()),
  /** Starter-file changes offered to them and not yet taken. */
  pendingUpdates: Count,
  /** The room of an LMS's "student view" (a teacher as a learner); absent on everyone else's. */
  testUser: v.optional(v.boolean()),
  /** Their score on its way to the LMS's gradebook, for a learner who came from an LMS and submitted; absent otherwise. */
  grade: v.optional(GradeStateSchema),
})
export type AssignmentRoom = v.InferOutput<typeof AssignmentRoomSchema>

/** A learner of the LMS course an assignment is linked from (its roster) who has not opened it yet. */
export const NotOpenedLearnerSchema = v.object({
  userId: v.string(),
  name: v.string(),
  /** As the LMS gave it (to invite them), or null. */
  email: v.nullable(v.string()),
})
export type NotOpenedLearner = v.InferOutput<typeof NotOpenedLearnerSchema>

export const AssignmentRoomListSchema = v.object({
  rooms: v.array(AssignmentRoomSchema),
  /** The course's learners without a room yet (known from an LMS roster or launch), by name; absent from older servers. */
  notOpened: v.optional(v.array(NotOpenedLearnerSchema)),
  /**
   * The LMS course roster: whether it can be pulled (`POST …/roster`: an LMS launched the assignment
   * with its roster service) and when people were last stored from it (null before a pull);
   * absent from older servers.
   */
  roster: v.optional(v.object({ available: v.boolean(), pulledAt: v.nullable(Instant) })),
})
export type AssignmentRoomList = v.InferOutput<typeof AssignmentRoomListSchema>

/** `POST /v1/assignments/:aid/roster` and `POST /v1/sessions/:sid/roster`: the LMS course roster pulled and kept (people, learners among them). */
export const RosterPulledSchema = v.object({ members: Count, learners: Count, pulledAt: Instant })
export type RosterPulled = v.InferOutput<typeof RosterPulledSchema>

/** `POST …/submit`: when it was recorded, and whether editing is now locked for them. */
export const AssignmentSubmittedSchema = v.object({ sessionId: v.string(), submittedAt: Instant, locked: v.boolean() })
export type AssignmentSubmitted = v.InferOutput<typeof AssignmentSubmittedSchema>

/**
 * A starter-file change the learner had not taken because they had changed that file: their text
 * (null when the file is no longer in their room) and the new starter text.
 */
export const AssignmentUpdateSchema = v.object({ file: v.string(), yours: v.nullable(v.string()), starter: v.string(), offeredAt: Instant })
export type AssignmentUpdate = v.InferOutput<typeof AssignmentUpdateSchema>

/** `GET …/updates` and `POST …/updates/accept` (what is still pending after it). */
export const AssignmentUpdateListSchema = v.object({ updates: v.array(AssignmentUpdateSchema) })
export type AssignmentUpdateList = v.InferOutput<typeof AssignmentUpdateListSchema>

/** `GET …/analytics?anonymize=&includeTestUsers=`: per learner, from their room's verified runs (test users left out unless asked for). */
export const AssignmentAnalyticsSchema = v.object({
  assignmentId: v.string(),
  anonymized: v.boolean(),
  generatedAt: Instant,
  summary: v.object({ learners: Count, submitted: Count, ranTests: Count, allPassing: Count }),
  learners: v.array(
    v.object({
      userId: v.string(),
      name: v.string(),
      startedAt: Instant,
      firstRunAt: v.nullable(Instant),
      /** From the room's start to their first verified run. */
      secondsToFirstRun: v.nullable(Count),
      runs: Count,
      submittedAt: v.nullable(Instant),
      /** Every finished verified tests run, oldest first. */
      tests: v.array(v.object({ at: Instant, passed: Count, failed: Count })),
      /** An LMS's "student view" (only with `includeTestUsers=true`; absent on everyone else). */
      testUser: v.optional(v.boolean()),
    }),
  ),
})
export type AssignmentAnalytics = v.InferOutput<typeof AssignmentAnalyticsSchema>

// ---- audit log ------------------------------------------------------------------------------

/**
 * What the audit log records: every moderation, permission, deletion, erasure and retention action.
 * `participant.*` and `chat.message_deleted` name the person acted on as the target; the others
 * name the resource (a recording, an invitation's invitee, a platform, a key) or none (the session).
 */
export const AUDIT_ACTIONS = [
  'participant.role_changed',
  'participant.muted',
  'participant.unmuted',
  'participant.removed',
  'participant.unbanned',
  'participant.hidden',
  'participant.shown',
  'session.editing_locked',
  'session.editing_unlocked',
  'session.deleted',
  'chat.message_deleted',
  'snapshot.deleted',
  'recording.started',
  'recording.stopped',
  'recording.deleted',
  'invitation.sent',
  'invitation.revoked',
  'lecture.hand_lowered',
  'lecture.hands_cleared',
  'lecture.spotlight_started',
  'assignment.closed',
  'assignment.reopened',
  'assignment.deleted',
  'lti.platform_added',
  'lti.platform_removed',
  'lti.keys_rotated',
  'user.erased',
  'user.exported',
  'retention.run',
] as const
export type AuditAction = (typeof AUDIT_ACTIONS)[number]

/** Who acts, as the audit log says it: their role in the room then, the host (API key, command line) or the server itself (a job). */
export const AUDIT_ACTOR_ROLES = [...ROLES, 'host', 'system'] as const
export type AuditActorRole = (typeof AUDIT_ACTOR_ROLES)[number]

/** How an action reached the server. */
export const AUDIT_VIAS = ['http', 'socket', 'cli', 'job'] as const
export type AuditVia = (typeof AUDIT_VIAS)[number]

/** One audit entry: `actorId` null for the host and the server; `ip` as the server resolved it (the TCP peer, or X-Forwarded-For behind a trusted proxy). */
export const AuditEntrySchema = v.object({
  id: Count,
  at: Instant,
  action: v.picklist(AUDIT_ACTIONS),
  actorId: v.nullable(v.string()),
  actorRole: v.picklist(AUDIT_ACTOR_ROLES),
  targetId: v.nullable(v.string()),
  sessionId: v.nullable(v.string()),
  assignmentId: v.nullable(v.string()),
  /** What else the action says (`{from, to}` of a role change, `{all: true}` of mute-all…): ids, roles, flags and counts only. */
  details: v.record(v.string(), v.unknown()),
  origin: v.object({ ip: v.nullable(v.string()), userAgent: v.nullable(v.string()), via: v.picklist(AUDIT_VIAS) }),
})
export type AuditEntry = v.InferOutput<typeof AuditEntrySchema>

/** `GET /v1/sessions/:sid/audit` and `GET /v1/audit`: newest first; `next` is the `before` of the next page (null on the last). */
export const AuditListSchema = v.object({ entries: v.array(AuditEntrySchema), next: v.nullable(Count) })
export type AuditList = v.InferOutput<typeof AuditListSchema>

// ---- webhooks -------------------------------------------------------------------------------

/** Everything a host can be told of: `POST /v1/webhooks` `events`, and the `type` of each delivery. */
export const WEBHOOK_EVENT_TYPES = [
  'session.created',
  'session.deleted',
  'participant.joined',
  'participant.left',
  'participant.role_changed',
  'participant.kicked',
  'recording.started',
  'recording.stopped',
  'recording.ready',
  'snapshot.created',
  'snapshot.restored',
  'run.finished',
  'invitation.accepted',
  'hand.raised',
  'assignment.submitted',
] as const
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number]

/**
 * What each event says, in its `data`: ids, and names and roles only where the host already knows
 * them (never a document's contents). Every event names its `sessionId` (an assignment's, the
 * learner's room). `by` is the user id of whoever acted.
 */
export interface WebhookEventData {
  'session.created': { sessionId: string; title: string; language: string; ownerId: string }
  'session.deleted': { sessionId: string }
  /** A person's first connection to the room opened (another tab of theirs is not news). */
  'participant.joined': { sessionId: string; userId: string; name: string; role: Role }
  /** A person's last connection to the room closed. */
  'participant.left': { sessionId: string; userId: string }
  'participant.role_changed': { sessionId: string; userId: string; role: Role; previousRole: Role; by: string }
  'participant.kicked': { sessionId: string; userId: string; by: string }
  'recording.started': { sessionId: string; recordingId: string; title: string; by: string }
  'recording.stopped': { sessionId: string; recordingId: string; title: string; by: string; durationMs: number }
  /** The replay is built and can be played. */
  'recording.ready': { sessionId: string; recordingId: string; title: string; durationMs: number }
  'snapshot.created': { sessionId: string; snapshotId: string; title: string; by: string }
  'snapshot.restored': { sessionId: string; snapshotId: string; title: string; by: string }
  /** A verified run (the server's own, of the stored code) ended. */
  'run.finished': { sessionId: string; runId: string; userId: string; kind: 'program' | 'tests'; status: string; testsPassed: number; testsFailed: number; durationMs: number | null }
  'invitation.accepted': { sessionId: string; invitationId: string; userId: string; role: Role }
  'hand.raised': { sessionId: string; userId: string; name: string }
  'assignment.submitted': { assignmentId: string; sessionId: string; userId: string; submittedAt: string; locked: boolean }
}

/** One delivery's body (Standard Webhooks' shape): `timestamp` is when it happened, ISO 8601. */
export type WebhookEvent<T extends WebhookEventType = WebhookEventType> = { [K in T]: { type: K; timestamp: string; data: WebhookEventData[K] } }[T]

export const WEBHOOK_STATUSES = ['active', 'failing'] as const
export type WebhookStatus = (typeof WEBHOOK_STATUSES)[number]

/**
 * An endpoint as `GET /v1/webhooks` lists it: `events` and `sessionIds` empty mean all; `failing`
 * since a delivery was given up after a day of retries (`lastError` says why), until one succeeds.
 */
export const WebhookSchema = v.object({
  id: v.string(),
  url: v.string(),
  events: v.array(v.picklist(WEBHOOK_EVENT_TYPES)),
  sessionIds: v.array(v.string()),
  status: v.picklist(WEBHOOK_STATUSES),
  failingSince: v.nullable(Instant),
  lastError: v.nullable(v.string()),
  /** Deliveries still to be made (retries included). */
  pending: Count,
  createdAt: Instant,
})
export type Webhook = v.InferOutput<typeof WebhookSchema>

/** `POST /v1/webhooks`: the endpoint and its signing secret, shown this once. */
export const WebhookCreatedSchema = v.object({ ...WebhookSchema.entries, secret: v.string() })
export type WebhookCreated = v.InferOutput<typeof WebhookCreatedSchema>

export const WebhookListSchema = v.object({ webhooks: v.array(WebhookSchema) })
export type WebhookList = v.InferOutput<typeof WebhookListSchema>

// ---- privacy: retention, erasure and export of one person -----------------------------------

const RetentionPeriods = v.object({
  recordings: v.nullable(v.number()),
  chat: v.nullable(v.number()),
  events: v.nullable(v.number()),
  snapshots: v.nullable(v.number()),
  session: v.nullable(v.number()),
})

/**
 * `GET /v1/retention`: the deployment's periods in days (null: kept), how often the job runs, the
 * run in progress (the step it is at) and the last finished one, with what each deleted per kind.
 */
export const RetentionStatusSchema = v.object({
  periods: RetentionPeriods,
  intervalSeconds: Count,
  running: v.nullable(v.object({ startedAt: Instant, step: v.string(), deleted: v.record(v.string(), Count) })),
  lastRun: v.nullable(v.object({ startedAt: Instant, finishedAt: Instant, deleted: v.record(v.string(), Count) })),
})
export type RetentionStatus = v.InferOutput<typeof RetentionStatusSchema>

/**
 * `DELETE /v1/users/:userId`: what the erasure did, as rows per table — `deleted` (the person's own
 * rows, and every row of their assignment rooms) and `anonymised` (kept, naming a former
 * participant instead: the code they typed, snapshots and recordings they made, their part in others'
 * records).
 */
export const UserErasedSchema = v.object({
  userId: v.string(),
  erasedAt: Instant,
  deleted: v.record(v.string(), Count),
  anonymised: v.record(v.string(), Count),
})
export type UserErased = v.InferOutput<typeof UserErasedSchema>

const Nullable = <S extends v.GenericSchema>(s: S) => v.nullable(s)

/**
 * `GET /v1/users/:userId/export`: everything this server holds about one person (a subject access
 * request). Other people's personal data stays out: invitations they sent show no invitee address.
 */
export const UserExportSchema = v.object({
  userId: v.string(),
  exportedAt: Instant,
  /** Addresses the server knows for them (their tokens, invitations, their LMS). */
  emails: v.array(v.string()),
  sessions: v.array(
    v.object({
      id: v.string(),
      title: v.string(),
      ownedByYou: v.boolean(),
      banned: v.boolean(),
      participant: Nullable(
        v.object({
          name: v.string(),
          email: Nullable(v.string()),
          avatar: Nullable(v.string()),
          role: RoleSchema,
          roleOverride: Nullable(RoleSchema),
          muted: v.boolean(),
          hidden: v.boolean(),
          testUser: v.boolean(),
          firstJoinedAt: Nullable(Instant),
          lastSeenAt: Nullable(Instant),
        }),
      ),
    }),
  ),
  chat: v.array(v.object({ sessionId: v.string(), id: Count, body: v.string(), createdAt: Instant, deleted: v.boolean() })),
  events: v.array(v.object({ sessionId: v.string(), kind: v.string(), at: Instant, inserted: Count, deleted: Count, data: Nullable(v.record(v.string(), v.unknown())) })),
  invitations: v.object({
    received: v.array(v.object({ id: v.string(), sessionId: v.string(), email: v.string(), name: Nullable(v.string()), role: RoleSchema, status: v.string(), inviterName: v.string(), createdAt: Instant, expiresAt: Instant, respondedAt: Nullable(Instant) })),
    sent: v.array(v.object({ id: v.string(), sessionId: v.string(), role: RoleSchema, status: v.string(), createdAt: Instant })),
  }),
  runs: v.array(v.object({ id: v.string(), sessionId: v.string(), kind: v.string(), file: v.string(), language: v.string(), status: v.string(), testsPassed: Count, testsFailed: Count, createdAt: Instant, finishedAt: Nullable(Instant) })),
  recordings: v.array(v.object({ id: v.string(), sessionId: v.string(), title: v.string(), status: v.string(), startedAt: Instant, stoppedAt: Nullable(Instant), createdByYou: v.boolean(), youAppear: v.boolean() })),
  snapshots: v.array(v.object({ id: v.string(), sessionId: v.string(), title: v.string(), createdAt: Instant })),
  raisedHands: v.array(v.object({ sessionId: v.string(), question: v.string(), raisedAt: Instant })),
  assignmentRooms: v.array(v.object({ assignmentId: v.string(), assignmentTitle: v.string(), sessionId: v.string(), startedAt: Instant, submittedAt: Nullable(Instant), files: Files })),
  assignmentsOwned: v.array(v.object({ id: v.string(), title: v.string(), createdAt: Instant })),
  lti: v.object({
    memberships: v.array(v.object({ platformId: v.string(), contextId: v.string(), ltiSub: v.string(), name: v.string(), email: Nullable(v.string()), role: v.string(), status: v.string(), source: v.string(), updatedAt: Instant })),
    grades: v.array(v.object({ assignmentId: v.string(), platformId: v.string(), status: v.string(), scoreGiven: Nullable(v.number()), scoreMaximum: Nullable(v.number()), submittedAt: Instant, sentAt: Nullable(Instant) })),
  }),
  /** Audit entries naming them, as actor or target. */
  audit: v.array(AuditEntrySchema),
})
export type UserExport = v.InferOutput<typeof UserExportSchema>

// ---- reading a response ---------------------------------------------------------------------

/** Any schema of this module (they are valibot schemas), and the value it gives. */
export type ApiSchema = v.GenericSchema
export type ApiOutput<S extends ApiSchema> = v.InferOutput<S>

/**
 * A response body checked against its schema: the typed value, or an Error whose sentence names
 * the first field that does not fit (`participants[2].role: role must be one of …`).
 */
export function parseApi<S extends ApiSchema>(schema: S, json: unknown): ApiOutput<S> {
  const result = v.safeParse(schema, json)
  if (result.success) return result.output
  const issue = result.issues[0]
  const path = (issue.path ?? []).reduce<string>((at, item) => (typeof item.key === 'number' ? `${at}[${item.key}]` : at ? `${at}.${String(item.key)}` : String(item.key)), '')
  throw new Error(`The server's answer does not have the shape this version of Session Kit expects: ${path ? `${path}: ` : ''}${issue.message}.`)
}

export { errorBodyMessage } from './error-body.js'
