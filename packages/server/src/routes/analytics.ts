import { Hono, type Context } from 'hono'
import * as v from 'valibot'
import { activityCounts, ANALYTICS_RANGES, analyticsCsv, anonymize, computeAnalytics, csvField, Permission, Rule, type AnalyticsResponse, type OwnActivity } from '@session-kit/core'
import { requirePermission, roomAuth } from '../http/auth.js'
import type { AppEnv } from '../http/context.js'
import { parse } from '../http/validate.js'
import { gatherAnalytics, ownMinutes } from '../store/analytics.js'

const Query = v.object({
  range: v.optional(v.picklist(ANALYTICS_RANGES, 'range must be 1h, 24h or all'), 'all'),
  anonymize: v.optional(v.picklist(['true', 'false', '1', '0', ''], 'anonymize must be true or false'), 'false'),
  format: v.optional(v.picklist(['json', 'csv'], 'format must be json or csv'), 'json'),
  // Test users (an LMS's student view) are left out unless asked for.
  includeTestUsers: v.optional(v.picklist(['true', 'false', '1', '0', ''], 'includeTestUsers must be true or false'), 'false'),
})

const yes = (flag: string) => flag === 'true' || flag === '1'

async function analytics(c: Context<AppEnv>): Promise<{ res: AnalyticsResponse; query: v.InferOutput<typeof Query> }> {
  const query = parse(Query, c.req.query())
  const { caller, services } = c.var
  const now = services.clock()
  const { facts, joinSeq } = await gatherAnalytics(services.db.sql, caller.session.id, query.range, now, { includeTestUsers: yes(query.includeTestUsers) })
  let res = computeAnalytics(facts, now.getTime())
  // The session's switch pseudonymises everything instructors see of it, whatever they ask for.
  if (yes(query.anonymize) || caller.session.pseudonymize) res = anonymize(res, (id) => joinSeq.get(id) ?? 0)
  return { res, query }
}

/** The columns of someone's own activity as CSV (`…/analytics/me?format=csv`): one row, theirs. */
const OWN_CSV_COLUMNS = ['userId', 'name', 'role', 'range', 'from', 'to', 'codeChanges', 'charsInserted', 'charsDeleted', 'executions', 'chatMessages', 'verifiedRuns', 'testsPassed', 'testsFailed', 'handsRaised', 'activeSeconds', 'connectedSeconds', 'lastActivityAt'] as const satisfies readonly (keyof OwnActivity)[]

/** A file name people can sort: analytics-intro-101-all-2026-11-28T1030.csv */
function fileName(sid: string, res: AnalyticsResponse, ext: string) {
  const safe = sid.replace(/[^\w.-]+/g, '-').slice(0, 60)
  const stamp = res.generatedAt.slice(0, 16).replace(':', '')
  return `analytics-${safe}-${res.range}${res.anonymized ? '-anonymized' : ''}-${stamp}.${ext}`
}

/** Session analytics for instructors, each person's own counts for everyone. */
export function analyticsRoutes() {
  const r = new Hono<AppEnv>()

  r.get('/:sid/analytics', roomAuth, requirePermission(Permission.VIEW_ANALYTICS), async (c) => c.json((await analytics(c)).res))

  r.get('/:sid/analytics/export', roomAuth, requirePermission(Permission.EXPORT_DATA), async (c) => {
    const { res, query } = await analytics(c)
    const sid = c.var.caller.session.id
    c.header('content-disposition', `attachment; filename="${fileName(sid, res, query.format)}"`)
    if (query.format === 'csv') return c.body(analyticsCsv(res, { testUsers: yes(query.includeTestUsers) }), 200, { 'content-type': 'text/csv; charset=utf-8' })
    return c.json({ format: 'session-kit-analytics', version: 1, sessionId: sid, sessionTitle: c.var.caller.session.title, ...res })
  })

  r.get('/:sid/analytics/me', roomAuth, requirePermission(Rule.VIEW_OWN_ACTIVITY), async (c) => {
    const query = parse(Query, c.req.query())
    const { caller, services } = c.var
    const now = services.clock()
    // A test user sees their own counts like anyone else.
    const { facts } = await gatherAnalytics(services.db.sql, caller.session.id, query.range, now, { includeTestUsers: true })
    const mine = computeAnalytics({ ...facts, participants: facts.participants.filter((p) => p.userId === caller.claims.sub) }, now.getTime())
    const p = mine.participants[0]
    const own: OwnActivity = {
      range: mine.range,
      from: mine.from,
      to: mine.to,
      userId: caller.claims.sub,
      name: p?.name ?? caller.claims.name,
      role: caller.ctx.role,
      ...activityCounts(p),
      verifiedRuns: p?.verifiedRuns ?? 0,
      testsPassed: p?.testsPassed ?? 0,
      testsFailed: p?.testsFailed ?? 0,
      handsRaised: p?.handsRaised ?? 0,
      activeSeconds: p?.activeSeconds ?? 0,
      connectedSeconds: p?.connectedSeconds ?? 0,
      lastActivityAt: p?.lastActivityAt ?? null,
    }
    // Asked for a format: a download of their own data (a learner may always take it with them).
    if (c.req.query('format') === undefined) return c.json(own)
    const sid = caller.session.id
    const stamp = now.toISOString().slice(0, 16).replace(':', '')
    c.header('content-disposition', `attachment; filename="my-activity-${sid.replace(/[^\w.-]+/g, '-').slice(0, 60)}-${own.range}-${stamp}.${query.format}"`)
    if (query.format === 'csv') {
      const csv = [OWN_CSV_COLUMNS.join(','), OWN_CSV_COLUMNS.map((k) => csvField(own[k])).join(',')].join('\r\n') + '\r\n'
      return c.body(csv, 200, { 'content-type': 'text/csv; charset=utf-8' })
    }
    const minutes = await ownMinutes(services.db.sql, sid, caller.claims.sub, new Date(own.from), new Date(own.to))
    return c.json({ format: 'session-kit-own-activity', version: 1, sessionId: sid, sessionTitle: caller.session.title, ...own, minutes })
  })

  return r
}
