import { Hono } from 'hono'
import * as v from 'valibot'
import { FileNameSchema, maySeeHiddenTests, Permission, type PermissionContext, type RunQueued, type VerifiedRun, type VerifiedRunList } from '@session-kit/core'
import { requirePermission, roomAuth } from '../http/auth.js'
import type { AppEnv } from '../http/context.js'
import { notFound } from '../http/errors.js'
import { body, KeySchema, parse, pathParam, wholeNumber } from '../http/validate.js'
import { AppError } from '../errors.js'
import { getVerifiedRun, listVerifiedRuns, type VerifiedRunRow } from '../store/verified-runs.js'

const RunBody = v.object({
  kind: v.picklist(['program', 'tests'], 'kind must be "program" or "tests"'),
  file: v.optional(FileNameSchema),
})
const ListQuery = v.object({ limit: v.optional(wholeNumber('limit', { min: 1, max: 100 }), '20') })

/** What learners and observers are told about the part of a run they do not see. */
export const WITHHELD = 'The hidden tests’ output and messages are shown to instructors only.'

/**
 * A verified run as `viewer` may see it. Instructors see everything. Others see each hidden test
 * as "Hidden test N" (passed or not, how long; no message, file or line), and nothing of what the
 * run with the hidden files printed or why it ended (a generic sentence instead).
 */
export function verifiedRunJson(r: VerifiedRunRow, viewer: PermissionContext): VerifiedRun {
  const full = maySeeHiddenTests(viewer)
  let n = 0
  const tests = r.tests.map((t) => (t.hidden && !full ? { name: `Hidden test ${++n}`, passed: t.passed, durationMs: t.durationMs, hidden: true } : t))
  const reason = r.reason ?? (r.hiddenReason === null ? undefined : full ? r.hiddenReason : r.status === 'timeout' ? 'The hidden tests did not finish within the time limit.' : 'The hidden tests could not run to the end.')
  return {
    id: r.id,
    kind: r.kind,
    file: r.file,
    language: r.language,
    status: r.status,
    heads: r.heads,
    output: r.output,
    tests,
    durationMs: r.durationMs ?? 0,
    verified: true,
    ...(reason !== undefined ? { reason } : {}),
    ...(r.hiddenFiles > 0 && !full ? { withheld: WITHHELD } : {}),
    ...(full && r.hiddenOutput ? { hiddenOutput: r.hiddenOutput } : {}),
    userId: r.userId,
    name: r.name,
    createdAt: r.createdAt.toISOString(),
    ...(r.finishedAt ? { finishedAt: r.finishedAt.toISOString() } : {}),
  }
}

const runMissing = () => notFound('No such run in this session.', 'run_not_found')

/** Runs the server vouches for: it runs the stored code itself, in a sandbox, and keeps the result. */
export function runRoutes() {
  const r = new Hono<AppEnv>()

  r.post('/:sid/runs', roomAuth, requirePermission(Permission.EXECUTE_CODE), async (c) => {
    const input = await body(c, RunBody)
    const { caller, services } = c.var
    let row: VerifiedRunRow
    try {
      row = await services.runs.request(caller, input)
    } catch (e) {
      if (e instanceof AppError && e.status === 429) c.header('Retry-After', String(e.extra.retryAfterSeconds))
      throw e
    }
    return c.json({ id: row.id, status: 'queued' } satisfies RunQueued, 202)
  })

  r.get('/:sid/runs', roomAuth, requirePermission(Permission.VIEW_CODE), async (c) => {
    const { limit } = parse(ListQuery, c.req.query())
    const { caller, services } = c.var
    const rows = await listVerifiedRuns(services.db.sql, caller.session.id, limit)
    c.header('cache-control', 'no-store')
    return c.json({ runs: rows.map((row) => verifiedRunJson(row, caller.ctx)) } satisfies VerifiedRunList)
  })

  r.get('/:sid/runs/:id', roomAuth, requirePermission(Permission.VIEW_CODE), async (c) => {
    const { caller, services } = c.var
    const row = await getVerifiedRun(services.db.sql, caller.session.id, pathParam(c, 'id', KeySchema, runMissing))
    if (!row) throw runMissing()
    c.header('cache-control', 'no-store')
    return c.json(verifiedRunJson(row, caller.ctx))
  })

  return r
}
