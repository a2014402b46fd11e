import type { AssignmentRoom, NotOpenedLearner } from '@session-kit/core'

export const FILTERS = {
  all: 'Everyone',
  hands: 'Raised hands',
  attention: 'Needs attention',
  'not-started': 'Not started',
  failing: 'Tests failing',
  submitted: 'Submitted',
  'not-submitted': 'Not submitted',
} as const
export type Filter = keyof typeof FILTERS

export const SORTS = {
  hands: 'Raised hands first',
  name: 'Name',
  activity: 'Latest activity',
  tests: 'Fewest tests passing',
} as const
export type Sort = keyof typeof SORTS

/** A room as the overview shows it: the server's statuses, with what its live view knows since. */
export type Tile = AssignmentRoom

export const notStarted = (r: Tile) => r.lastActivityAt === null
export const failing = (r: Tile) => r.tests !== null && r.tests.status !== 'passed'

const MATCH: Record<Filter, (r: Tile) => boolean> = {
  all: () => true,
  hands: (r) => r.hand !== null,
  attention: (r) => r.attention.length > 0 || r.hand !== null,
  'not-started': notStarted,
  failing,
  submitted: (r) => r.submittedAt !== null,
  'not-submitted': (r) => r.submittedAt === null,
}

const time = (at: string | null | undefined) => (at ? new Date(at).getTime() : 0)
const byName = (a: Tile, b: Tile) => a.name.localeCompare(b.name, undefined, { sensitivity: 'base' }) || a.userId.localeCompare(b.userId)
/** Share of tests passing; no tests run yet sorts after any result. */
const passRate = (r: Tile) => (r.tests ? r.tests.passed / Math.max(1, r.tests.passed + r.tests.failed) : 2)

const ORDER: Record<Sort, (a: Tile, b: Tile) => number> = {
  // Longest-waiting hand first, then those who need attention, then by name.
  hands: (a, b) => (a.hand ? 0 : 1) - (b.hand ? 0 : 1) || time(a.hand?.raisedAt) - time(b.hand?.raisedAt) || (a.attention.length ? 0 : 1) - (b.attention.length ? 0 : 1) || byName(a, b),
  name: byName,
  activity: (a, b) => time(b.lastActivityAt) - time(a.lastActivityAt) || byName(a, b),
  tests: (a, b) => passRate(a) - passRate(b) || byName(a, b),
}

/** The tiles to show: those matching the filter and the name searched, in the order chosen. */
export function arrange(rooms: readonly Tile[], opts: { filter: Filter; sort: Sort; search: string }): Tile[] {
  const q = opts.search.trim().toLocaleLowerCase()
  return rooms.filter((r) => MATCH[opts.filter](r) && (!q || r.name.toLocaleLowerCase().includes(q))).sort(ORDER[opts.sort])
}

/** How many rooms match each filter (for the filter's labels). */
export function counts(rooms: readonly Tile[]): Record<Filter, number> {
  return Object.fromEntries((Object.keys(MATCH) as Filter[]).map((f) => [f, rooms.filter(MATCH[f]).length])) as Record<Filter, number>
}

/** Filters a learner who has not opened the assignment matches: they have not started and not submitted. */
const NOT_OPENED_MATCH: readonly Filter[] = ['all', 'not-started', 'not-submitted']

/** The learners without a room to list under the tiles: those the filter and the search match, by name. */
export function arrangeNotOpened(learners: readonly NotOpenedLearner[], opts: { filter: Filter; search: string }): NotOpenedLearner[] {
  if (!NOT_OPENED_MATCH.includes(opts.filter)) return []
  const q = opts.search.trim().toLocaleLowerCase()
  return learners
    .filter((m) => !q || m.name.toLocaleLowerCase().includes(q))
    .sort((a, b) => a.name.localeCompare(b.name, undefined, { sensitivity: 'base' }) || a.userId.localeCompare(b.userId))
}

/** The filters' counts with the learners who have not opened the assignment counted where they show. */
export function countsWithNotOpened(rooms: readonly Tile[], notOpened: number): Record<Filter, number> {
  const n = counts(rooms)
  for (const f of NOT_OPENED_MATCH) n[f] += notOpened
  return n
}
