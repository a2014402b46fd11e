import { Hono } from 'hono'
import * as v from 'valibot'
import { hostAudit, recordAction, type AuditRecord } from '../audit/record.js'
import { requireApiKey } from '../http/auth.js'
import type { AppEnv } from '../http/context.js'
import { notFound } from '../http/errors.js'
import { body, parse, pathParam } from '../http/validate.js'
import { toolOrigin } from '../lti/routes.js'
import { newPlatformId, platformUrlProblem, REGISTRATION_TTL_DEFAULT, registrationLink, registrationTtlSeconds, toolConfiguration, type ToolConfiguration } from '../lti/registration.js'
import { deletePlatform, getPlatform, listPlatforms, upsertPlatform, type PlatformRow } from '../store/lti.js'
import type { Sql } from '../store/db.js'

/** An LMS's URL: https, or plain http on this machine only (development, tests). */
const PlatformUrl = v.pipe(
  v.string('must be a URL'),
  v.trim(),
  v.maxLength(2000, 'must be at most 2,000 characters'),
  v.rawCheck(({ dataset, addIssue }) => {
    const problem = dataset.typed ? platformUrlProblem(dataset.value) : undefined
    if (problem) addIssue({ message: problem })
  }),
)
/** An id the LMS gave (client id, deployment id): 1–255 characters, no control characters. */
const LmsId = v.pipe(v.string('must be a string'), v.trim(), v.minLength(1, 'must not be empty'), v.maxLength(255, 'must be at most 255 characters'), v.regex(/^[^\u0000-\u001f\u007f]*$/, 'must not contain control characters'))

/** A platform as an administrator registers it (API body, CLI flags). */
export const PlatformInputSchema = v.object({
  // The issuer is compared as the LMS writes it in every launch: no query or fragment (LTI 1.3 security framework).
  issuer: v.pipe(PlatformUrl, v.check((u) => !/[?#]/.test(u), 'must not have a query or fragment')),
  clientId: LmsId,
  authUrl: PlatformUrl,
  tokenUrl: PlatformUrl,
  jwksUrl: PlatformUrl,
  deploymentIds: v.pipe(
    v.array(LmsId, 'must be a list of deployment ids'),
    v.minLength(1, 'must list at least one deployment id'),
    v.maxLength(50, 'lists at most 50 deployment ids'),
    v.transform((ids) => [...new Set(ids)]),
  ),
  name: v.optional(v.pipe(v.string('must be a string'), v.trim(), v.maxLength(200, 'is at most 200 characters'), v.regex(/^[^\u0000-\u001f\u007f]*$/, 'must not contain control characters')), ''),
})
export type PlatformInput = v.InferOutput<typeof PlatformInputSchema>

/** A registered platform as the API and the CLI show it. */
export interface PlatformJson {
  id: string
  issuer: string
  clientId: string
  name: string
  authUrl: string
  tokenUrl: string
  jwksUrl: string
  deploymentIds: string[]
  registeredBy: 'admin' | 'dynamic'
  createdAt: string
}

export function platformJson(p: PlatformRow): PlatformJson {
  return { id: p.id, issuer: p.issuer, clientId: p.clientId, name: p.name, authUrl: p.authUrl, tokenUrl: p.tokenUrl, jwksUrl: p.jwksUrl, deploymentIds: p.deploymentIds, registeredBy: p.registeredBy, createdAt: p.createdAt.toISOString() }
}

/**
 * Register a platform, or update the one with the same issuer and client id (its deployments are
 * added to); on the audit log as `by` (the host, over HTTP or at the command line).
 */
export async function registerPlatform(sql: Sql, input: PlatformInput, by: Pick<AuditRecord, 'actor' | 'origin'>): Promise<{ row: PlatformRow; created: boolean }> {
  const done = await upsertPlatform(sql, { id: newPlatformId(), ...input, registeredBy: 'admin' })
  await recordAction(sql, { ...by, action: 'lti.platform_added', targetId: done.row.id, details: { created: done.created, registeredBy: 'admin', deployments: done.row.deploymentIds.length } })
  return done
}

/** Remove a platform (its course links, members and pending grades go with it); on the audit log as `by`. */
export async function removePlatform(sql: Sql, id: string, by: Pick<AuditRecord, 'actor' | 'origin'>): Promise<boolean> {
  if (!(await deletePlatform(sql, id))) return false
  await recordAction(sql, { ...by, action: 'lti.platform_removed', targetId: id })
  return true
}

const PlatformId = v.pipe(v.string(), v.regex(/^p[0-9a-f]{10}$/))
/** How long a registration URL stays valid: 1m to 30d. */
const RegistrationTtl = v.pipe(
  v.string('must be a duration such as 1h or 7d'),
  v.rawCheck(({ dataset, addIssue }) => {
    if (!dataset.typed) return
    try {
      registrationTtlSeconds(dataset.value)
    } catch (e) {
      addIssue({ message: (e as Error).message })
    }
  }),
)
const RegistrationUrlBody = v.object({ ttl: v.optional(RegistrationTtl, REGISTRATION_TTL_DEFAULT) })
const ToolQuery = v.object({ registrationTtl: v.optional(RegistrationTtl) })

/**
 * The LMSs (LTI 1.3 platforms) that may launch into Session Kit, registered by an administrator:
 * host routes under /v1/lti, all with the API key.
 */
export function ltiPlatformRoutes() {
  const r = new Hono<AppEnv>()
  const missing = (id: string) => () => notFound(`No LMS is registered with id "${id}".`, 'platform_not_found')

  r.post('/platforms', requireApiKey, async (c) => {
    const input = await body(c, PlatformInputSchema)
    const { row, created } = await registerPlatform(c.var.services.db.sql, input, hostAudit(c))
    return c.json(platformJson(row), created ? 201 : 200)
  })

  r.get('/platforms', requireApiKey, async (c) => {
    return c.json({ platforms: (await listPlatforms(c.var.services.db.sql)).map(platformJson) })
  })

  r.get('/platforms/:id', requireApiKey, async (c) => {
    const id = pathParam(c, 'id', PlatformId, missing(c.req.param('id')))
    const row = await getPlatform(c.var.services.db.sql, id)
    if (!row) throw missing(id)()
    return c.json(platformJson(row))
  })

  // Its course links, members and grades waiting to be sent go with it (the tables cascade).
  r.delete('/platforms/:id', requireApiKey, async (c) => {
    const id = pathParam(c, 'id', PlatformId, missing(c.req.param('id')))
    if (!(await removePlatform(c.var.services.db.sql, id, hostAudit(c)))) throw missing(id)()
    return c.body(null, 204)
  })

  // A URL to paste into an LMS for LTI Dynamic Registration (see lti/registration.ts).
  r.post('/registration-url', requireApiKey, async (c) => {
    const input = await body(c, RegistrationUrlBody)
    const { config, clock } = c.var.services
    const link = await registrationLink(toolOrigin(c), config.secret, { ttlS: registrationTtlSeconds(input.ttl), now: clock() })
    return c.json({ url: link.url, expiresAt: link.expiresAt.toISOString() })
  })

  // What an administrator types into an LMS that registers tools by hand.
  r.get('/tool', requireApiKey, async (c) => {
    const q = parse(ToolQuery, c.req.query())
    const { config, clock } = c.var.services
    const origin = toolOrigin(c)
    const tool: ToolConfiguration & { registrationUrl?: string; registrationExpiresAt?: string } = toolConfiguration(origin)
    if (q.registrationTtl) {
      const link = await registrationLink(origin, config.secret, { ttlS: registrationTtlSeconds(q.registrationTtl), now: clock() })
      tool.registrationUrl = link.url
      tool.registrationExpiresAt = link.expiresAt.toISOString()
    }
    return c.json(tool)
  })

  return r
}
