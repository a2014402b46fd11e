/**
 * Session analytics: the formulas. The server gathers counts with SQL (per-minute rollups) and
 * hands them to `computeAnalytics`; the element uses `needsAttention`. Everything here is pure and
 * documented with a worked example in docs/analytics.md.
 */
import type { Role } from './roles.js'

export const ANALYTICS_RANGES = ['1h', '24h', 'all'] as const
export type AnalyticsRange = (typeof ANALYTICS_RANGES)[number]

export const MINUTE_MS = 60_000
/** "Active participants": those with activity in this many last minutes of the range. */
export const ACTIVE_WINDOW_MINUTES = 5
/** The trend has at most this many points; longer ranges are summed into wider steps. */
export const MAX_SERIES_POINTS = 1440

/** Engagement weights: presence, activity (share of connected minutes with activity), variety. */
export const ENGAGEMENT_WEIGHTS = { presence: 0.3, activity: 0.5, variety: 0.2 } as const

export const floorMinute = (ms: number) => Math.floor(ms / MINUTE_MS) * MINUTE_MS

/**
 * The span a range covers, in whole minutes: `1h` is the 60 minutes up to and including the minute
 * of `end`, `24h` the 1,440; `all` starts at the session's first minute. Never before `start`.
 */
export function rangeBounds(range: AnalyticsRange, end: number, sessionStart: number | null): { from: number; to: number } {
  const first = sessionStart === null ? floorMinute(end) : floorMinute(Math.min(sessionStart, end))
  const minutes = range === '1h' ? 60 : range === '24h' ? 1440 : Infinity
  const from = minutes === Infinity ? first : Math.max(first, floorMinute(end) - (minutes - 1) * MINUTE_MS)
  return { from, to: end }
}

export type Interval = readonly [from: number, to: number]

/** Sorted, non-overlapping intervals covering the same time, clipped to [from, to]. */
export function mergeIntervals(intervals: readonly Interval[], from: number, to: number): [number, number][] {
  const clipped = intervals
    .map(([a, b]) => [Math.max(a, from), Math.min(b, to)] as [number, number])
    .filter(([a, b]) => b > a)
    .sort((x, y) => x[0] - y[0])
  const out: [number, number][] = []
  for (const [a, b] of clipped) {
    const last = out.at(-1)
    if (last && a <= last[1]) last[1] = Math.max(last[1], b)
    else out.push([a, b])
  }
  return out
}

export interface PresenceEvent {
  userId: string
  kind: 'join' | 'leave'
  at: number
  /** The connection the join or leave belongs to. */
  conn: string
}

/**
 * Each person's connections from their join and leave events, in order. A connection still open
 * (`live`) runs to `end`. One whose leave was never written (its server stopped abruptly) is taken
 * to end at the person's last activity after joining (but before their next join), or at the join.
 * `liveSince` is when the person's earliest open connection began.
 */
export function connectionIntervals(
  events: readonly PresenceEvent[],
  live: ReadonlySet<string>,
  end: number,
  lastActivity: ReadonlyMap<string, number>,
): Map<string, { intervals: Interval[]; liveSince: number | null }> {
  const open = new Map<string, PresenceEvent>()
  const out = new Map<string, { intervals: Interval[]; liveSince: number | null }>()
  const entry = (userId: string) => {
    let e = out.get(userId)
    if (!e) out.set(userId, (e = { intervals: [], liveSince: null }))
    return e
  }
  const unmatched: PresenceEvent[] = []
  for (const e of events) {
    if (e.kind === 'join') {
      open.set(e.conn, e)
      continue
    }
    const j = open.get(e.conn)
    if (!j) continue
    open.delete(e.conn)
    entry(j.userId).intervals.push([j.at, Math.min(e.at, end)])
  }
  for (const j of open.values()) {
    if (live.has(j.conn)) {
      const e = entry(j.userId)
      e.intervals.push([j.at, end])
      e.liveSince = e.liveSince === null ? j.at : Math.min(e.liveSince, j.at)
    } else unmatched.push(j)
  }
  // A dead connection without a leave: up to the person's last activity before their next join.
  const joins = events.filter((e) => e.kind === 'join')
  for (const j of unmatched) {
    const later = joins.find((x) => x.userId === j.userId && x.at > j.at)
    const last = lastActivity.get(j.userId)
    const until = last !== undefined && last > j.at ? Math.min(last, later ? later.at : end) : j.at
    entry(j.userId).intervals.push([j.at, Math.min(until, end)])
  }
  return out
}

export const totalSeconds = (intervals: readonly Interval[]) => Math.round(intervals.reduce((s, [a, b]) => s + (b - a), 0) / 1000)

/**
 * The most people connected at the same moment (someone with two tabs counts once). Each
 * person's intervals must already be merged (see mergeIntervals).
 */
export function peakConcurrent(perPerson: readonly (readonly Interval[])[]): number {
  const points: [number, number][] = []
  for (const intervals of perPerson) for (const [a, b] of intervals) points.push([a, 1], [b, -1])
  // At the same instant, leaving comes before joining: back-to-back visits are not an overlap.
  points.sort((x, y) => x[0] - y[0] || x[1] - y[1])
  let now = 0
  let peak = 0
  for (const [, d] of points) peak = Math.max(peak, (now += d))
  return peak
}

export interface EngagementInput {
  durationSeconds: number
  connectedSeconds: number
  activeSeconds: number
  codeChanges: number
  executions: number
  chatMessages: number
}

/**
 * Engagement, 0–100: `100 × (0.3 × presence + 0.5 × activity + 0.2 × variety)`, rounded, where
 * presence = connected time ÷ the range's duration, activity = minutes with activity ÷ minutes
 * connected, variety = how many of editing, running and chatting the person did ÷ 3 (each ratio
 * capped at 1). A prompt for the instructor, never a grade.
 */
export function engagementScore(p: EngagementInput): number {
  const presence = p.durationSeconds > 0 ? Math.min(1, p.connectedSeconds / p.durationSeconds) : 0
  const activity = p.connectedSeconds > 0 ? Math.min(1, p.activeSeconds / p.connectedSeconds) : p.activeSeconds > 0 ? 1 : 0
  const variety = ((p.codeChanges > 0 ? 1 : 0) + (p.executions > 0 ? 1 : 0) + (p.chatMessages > 0 ? 1 : 0)) / 3
  const w = ENGAGEMENT_WEIGHTS
  return Math.round(100 * (w.presence * presence + w.activity * activity + w.variety * variety))
}

/** What a person did over the range, counted from the events. */
export interface ActivityCounts {
  codeChanges: number
  charsInserted: number
  charsDeleted: number
  executions: number
  chatMessages: number
}

/** A person's counts, zero where nothing was counted (someone who only watched). */
export const activityCounts = (t: Partial<ActivityCounts> | undefined): ActivityCounts => ({
  codeChanges: t?.codeChanges ?? 0,
  charsInserted: t?.charsInserted ?? 0,
  charsDeleted: t?.charsDeleted ?? 0,
  executions: t?.executions ?? 0,
  chatMessages: t?.chatMessages ?? 0,
})

/** What the server gathers for one participant over the range. */
export interface ParticipantFacts extends ActivityCounts {
  userId: string
  name: string
  role: Role
  /** 1 for the first person to join the session, 2 for the next…: the pseudonym's number. */
  joinSeq: number
  /** Minutes of the range in which the person edited, ran or chatted. */
  activeMinutes: number
  /** Their connections (from join to leave, or to `end` while still connected). */
  connections: readonly Interval[]
  online: boolean
  /** Their latest edit, run or chat (ms), in any range. */
  lastActivityAt: number | null
  /** Since when they have been connected without a break (ms), if online. */
  connectedSince: number | null
  /** Their latest runs, newest first: true for a run without errors. */
  recentRuns: readonly boolean[]
  /** Runs the server made itself for them (`POST …/runs`), finished in the range; 0 when absent. */
  verifiedRuns?: number
  /** Tests that passed and failed in those runs, hidden tests included. */
  testsPassed?: number
  testsFailed?: number
  /** Hands they raised in the range (lecture mode); 0 when absent. */
  handsRaised?: number
  /** An LMS's "student view" (a token with `test: true`): there only when test users were asked for. */
  testUser?: boolean
}

export interface MinuteFacts {
  minute: number
  codeChanges: number
  executions: number
  /** People who edited, ran or chatted in that minute. */
  activeParticipants: number
}

export interface AnalyticsFacts {
  range: AnalyticsRange
  /** The end of the range: now while anyone is connected, else the session's last event. */
  end: number
  /** The session's first event (ms), or null if nothing happened yet. */
  sessionStart: number | null
  participants: readonly ParticipantFacts[]
  /** Only minutes with something in them; the rest are zeros. */
  minutes: readonly MinuteFacts[]
  /** People with activity in the last ACTIVE_WINDOW_MINUTES minutes of the range. */
  activeParticipants: number
  /** Changes made by the server itself (restores, file routes): not code changes. */
  serverChanges: number
}

export interface ParticipantAnalytics {
  userId: string
  name: string
  role: Role
  engagementScore: number
  codeChanges: number
  charsInserted: number
  charsDeleted: number
  executions: number
  chatMessages: number
  activeSeconds: number
  connectedSeconds: number
  online: boolean
  lastActivityAt: string | null
  connectedSince: string | null
  recentRuns: boolean[]
  /** Runs the server made from the stored code for them (also counted in `executions`). */
  verifiedRuns: number
  /** Tests passed and failed in those runs, hidden tests included. */
  testsPassed: number
  testsFailed: number
  /** Hands they raised in the range (lecture mode). */
  handsRaised: number
  /**
   * True for an LMS's "student view" (a teacher looking at the course as a learner). Test users are
   * left out unless asked for (`includeTestUsers=true`); absent on everyone else.
   */
  testUser?: boolean
}

export interface SeriesPoint {
  minute: string
  codeChanges: number
  executions: number
  activeParticipants: number
}

export interface AnalyticsResponse {
  range: AnalyticsRange
  anonymized: boolean
  from: string
  to: string
  generatedAt: string
  session: {
    durationSeconds: number
    participantCount: number
    peakParticipants: number
    activeParticipants: number
    codeChanges: number
    serverChanges: number
    executions: number
    /** Of `executions`, the runs the server made from the stored code. */
    verifiedRuns: number
    codeChangesPerMinute: number
    executionsPerMinute: number
    averageSessionSeconds: number
    engagementScore: number
  }
  participants: ParticipantAnalytics[]
  /** Minutes per point of `series` (1 unless the range is longer than MAX_SERIES_POINTS minutes). */
  seriesStepMinutes: number
  series: SeriesPoint[]
}

const round2 = (n: number) => Math.round(n * 100) / 100
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString())

/** Turn gathered facts into the analytics response (names as they are; see `anonymize`). */
export function computeAnalytics(facts: AnalyticsFacts, generatedAt = facts.end): AnalyticsResponse {
  const { from, to } = rangeBounds(facts.range, facts.end, facts.sessionStart)
  const durationSeconds = facts.sessionStart === null ? 0 : Math.round((to - Math.max(from, facts.sessionStart)) / 1000)
  const merged = new Map(facts.participants.map((p) => [p.userId, mergeIntervals(p.connections, from, to)]))

  const participants: ParticipantAnalytics[] = facts.participants
    .map((p) => {
      const connectedSeconds = totalSeconds(merged.get(p.userId)!)
      const activeSeconds = p.activeMinutes * 60
      return {
        userId: p.userId,
        name: p.name,
        role: p.role,
        engagementScore: engagementScore({ durationSeconds, connectedSeconds, activeSeconds, codeChanges: p.codeChanges, executions: p.executions, chatMessages: p.chatMessages }),
        codeChanges: p.codeChanges,
        charsInserted: p.charsInserted,
        charsDeleted: p.charsDeleted,
        executions: p.executions,
        chatMessages: p.chatMessages,
        activeSeconds,
        connectedSeconds,
        online: p.online,
        lastActivityAt: iso(p.lastActivityAt),
        connectedSince: iso(p.connectedSince),
        recentRuns: [...p.recentRuns],
        verifiedRuns: p.verifiedRuns ?? 0,
        testsPassed: p.testsPassed ?? 0,
        testsFailed: p.testsFailed ?? 0,
        handsRaised: p.handsRaised ?? 0,
        ...(p.testUser ? { testUser: true } : {}),
        joinSeq: p.joinSeq,
        // Present in the range: connected (however briefly) or active in it.
        present: merged.get(p.userId)!.length > 0 || p.activeMinutes > 0 || p.codeChanges + p.executions + p.chatMessages > 0,
      }
    })
    .filter((p) => p.present)
    .sort((a, b) => a.joinSeq - b.joinSeq)
    .map(({ joinSeq: _, present: __, ...p }) => p)

  const codeChanges = participants.reduce((s, p) => s + p.codeChanges, 0)
  const executions = participants.reduce((s, p) => s + p.executions, 0)
  const minutes = Math.max(1, durationSeconds / 60)
  const connected = participants.filter((p) => p.connectedSeconds > 0)
  const learners = participants.filter((p) => p.role === 'learner')
  const scored = learners.length ? learners : participants

  // The trend: every minute of the range, summed into wider steps when the range is long.
  const firstMinute = facts.sessionStart === null ? floorMinute(to) : floorMinute(Math.max(from, facts.sessionStart))
  const count = Math.floor((floorMinute(to) - firstMinute) / MINUTE_MS) + 1
  const step = Math.max(1, Math.ceil(count / MAX_SERIES_POINTS))
  const byMinute = new Map(facts.minutes.map((m) => [m.minute, m]))
  const series: SeriesPoint[] = []
  for (let m = firstMinute; m <= floorMinute(to); m += step * MINUTE_MS) {
    const point = { minute: new Date(m).toISOString(), codeChanges: 0, executions: 0, activeParticipants: 0 }
    for (let k = 0; k < step; k++) {
      const f = byMinute.get(m + k * MINUTE_MS)
      if (!f) continue
      point.codeChanges += f.codeChanges
      point.executions += f.executions
      point.activeParticipants = Math.max(point.activeParticipants, f.activeParticipants)
    }
    series.push(point)
  }

  return {
    range: facts.range,
    anonymized: false,
    from: new Date(from).toISOString(),
    to: new Date(to).toISOString(),
    generatedAt: new Date(generatedAt).toISOString(),
    session: {
      durationSeconds,
      participantCount: participants.length,
      peakParticipants: peakConcurrent([...merged.values()]),
      activeParticipants: facts.activeParticipants,
      codeChanges,
      serverChanges: facts.serverChanges,
      executions,
      verifiedRuns: participants.reduce((s, p) => s + p.verifiedRuns, 0),
      codeChangesPerMinute: round2(codeChanges / minutes),
      executionsPerMinute: round2(executions / minutes),
      averageSessionSeconds: connected.length ? Math.round(connected.reduce((s, p) => s + p.connectedSeconds, 0) / connected.length) : 0,
      engagementScore: scored.length ? Math.round(scored.reduce((s, p) => s + p.engagementScore, 0) / scored.length) : 0,
    },
    participants,
    seriesStepMinutes: step,
    series,
  }
}

/** The stable pseudonym of the n-th person to join a session. */
export const pseudonym = (joinSeq: number) => ({ userId: `participant-${joinSeq}`, name: `Participant ${joinSeq}` })

/**
 * Replace names and ids with pseudonyms numbered by first join ("Participant 3"), the same in every
 * range and every request. `joinSeqOf` gives a participant's number.
 */
export function anonymize(res: AnalyticsResponse, joinSeqOf: (userId: string) => number): AnalyticsResponse {
  return { ...res, anonymized: true, participants: res.participants.map((p) => ({ ...p, ...pseudonym(joinSeqOf(p.userId)) })) }
}

/** Someone's own counts (`…/analytics/me`): no score — a prompt, never a grade. */
export type OwnActivity = Omit<ParticipantAnalytics, 'engagementScore' | 'recentRuns' | 'online' | 'connectedSince' | 'testUser'> & { range: AnalyticsRange; from: string; to: string }

// ---- export ---------------------------------------------------------------------------------

export const PARTICIPANT_CSV_COLUMNS = [
  'userId',
  'name',
  'role',
  'engagementScore',
  'codeChanges',
  'charsInserted',
  'charsDeleted',
  'executions',
  'chatMessages',
  'activeSeconds',
  'connectedSeconds',
  'handsRaised',
] as const satisfies readonly (keyof ParticipantAnalytics)[]

/**
 * Where a spreadsheet may see the start of a cell that is a formula: the start of the text, or just
 * after a comma, semicolon, tab or line break followed (after any spaces or quotes) by = + - @ or
 * their full-width forms. After a separator too, because a spreadsheet set to split on ";" (or on
 * tabs) does not see our quotes at the start of its cells and cuts a quoted field into several.
 */
const FORMULA_START = /(?<=^|[,;\t\r\n])(?=[\s"]*[=+\-@\uff1d\uff0b\uff0d\uff20])/g

/**
 * One CSV field (RFC 4180), safe to open in a spreadsheet: text is quoted when it holds a separator
 * of any locale (`,` `;` tab), a quote or a line break, and every place where a cell could start
 * a formula gets a `'` in front. Numbers stay numbers (-3 is -3).
 */
export function csvField(value: unknown): string {
  let s = value === null || value === undefined ? '' : String(value)
  if (typeof value === 'string') s = s.replace(FORMULA_START, "'")
  return /[",;\t\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s
}

/** The columns of an assignment's analytics as CSV, one row per learner (their latest tests run's counts). */
export const ASSIGNMENT_CSV_COLUMNS = ['userId', 'name', 'startedAt', 'secondsToFirstRun', 'runs', 'testRuns', 'lastPassed', 'lastFailed', 'submittedAt'] as const

/** How a CSV export is laid out beyond its fixed columns. */
export interface CsvOptions {
  /**
   * Test users were asked for (`includeTestUsers=true`): a last `testUser` column says true or
   * false on every row, so the spreadsheet can tell a "student view" from a learner. Without it
   * the columns stay as they always were.
   */
  testUsers?: boolean
}

/** An assignment's analytics as CSV (header row first, CRLF line ends): `GET …/analytics?format=csv`. */
export function assignmentAnalyticsCsv(
  res: { learners: readonly { userId: string; name: string; startedAt: string; secondsToFirstRun: number | null; runs: number; submittedAt: string | null; tests: readonly { passed: number; failed: number }[]; testUser?: boolean }[] },
  opts: CsvOptions = {},
): string {
  const rows: string[] = [[...ASSIGNMENT_CSV_COLUMNS, ...(opts.testUsers ? ['testUser'] : [])].join(',')]
  for (const l of res.learners) {
    const last = l.tests.at(-1)
    const row = { ...l, testRuns: l.tests.length, lastPassed: last?.passed ?? null, lastFailed: last?.failed ?? null }
    rows.push([...ASSIGNMENT_CSV_COLUMNS.map((c) => csvField(row[c])), ...(opts.testUsers ? [String(l.testUser === true)] : [])].join(','))
  }
  return rows.join('\r\n') + '\r\n'
}

/** The per-participant table of an analytics response as CSV (header row first, CRLF line ends). */
export function analyticsCsv(res: AnalyticsResponse, opts: CsvOptions = {}): string {
  const rows = [[...PARTICIPANT_CSV_COLUMNS, ...(opts.testUsers ? ['testUser'] : [])].join(',')]
  for (const p of res.participants) rows.push([...PARTICIPANT_CSV_COLUMNS.map((c) => csvField(p[c])), ...(opts.testUsers ? [String(p.testUser === true)] : [])].join(','))
  return rows.join('\r\n') + '\r\n'
}
