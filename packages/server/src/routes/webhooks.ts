import { randomBytes } from 'node:crypto'
import { Hono } from 'hono'
import * as v from 'valibot'
import { SessionIdSchema, type Webhook, type WebhookCreated, type WebhookList } from '@session-kit/core'
import { requireApiKey } from '../http/auth.js'
import type { AppEnv } from '../http/context.js'
import { badRequest, conflict, notFound } from '../http/errors.js'
import { body, pathParam } from '../http/validate.js'
import { countEndpoints, deleteEndpoint, insertEndpoint, listEndpoints, type WebhookEndpointRow } from '../store/webhooks.js'
import { resolveWebhookTarget, webhookUrlProblem, WebhookTargetError } from '../webhooks/address.js'
import { WEBHOOK_EVENT_TYPES } from '../webhooks/events.js'
import { newWebhookSecret } from '../webhooks/signature.js'

/** Endpoints one deployment may register: every event is written once per endpoint that wants it. */
const MAX_ENDPOINTS = 50

const unique = <T>(list: T[]) => [...new Set(list)]

const CreateWebhook = v.object({
  url: v.pipe(
    v.string('url must be a URL'),
    v.trim(),
    v.maxLength(2000, 'url is at most 2,000 characters'),
    v.rawCheck(({ dataset, addIssue }) => {
      const problem = dataset.typed ? webhookUrlProblem(dataset.value) : undefined
      if (problem) addIssue({ message: problem })
    }),
  ),
  events: v.optional(
    v.pipe(v.array(v.picklist(WEBHOOK_EVENT_TYPES, `an event is one of ${WEBHOOK_EVENT_TYPES.join(', ')}`), 'events must be a list of event types'), v.transform(unique)),
    [],
  ),
  sessionIds: v.optional(v.pipe(v.array(SessionIdSchema, 'sessionIds must be a list of session ids'), v.maxLength(1000, 'sessionIds lists at most 1,000 sessions'), v.transform(unique)), []),
})

const WebhookId = v.pipe(v.string(), v.regex(/^wh_[0-9a-f]{16}$/))

export function webhookJson(e: WebhookEndpointRow): Webhook {
  return {
    id: e.id,
    url: e.url,
    events: e.events,
    sessionIds: e.sessionIds,
    status: e.status,
    failingSince: e.failingSince?.toISOString() ?? null,
    lastError: e.lastError,
    pending: e.pending,
    createdAt: e.createdAt.toISOString(),
  }
}

/** Webhooks: where the server posts what happens in its rooms (host routes, the API key). */
export function webhookRoutes() {
  const r = new Hono<AppEnv>()
  const missing = (id: string) => () => notFound(`No webhook endpoint has id "${id}".`, 'webhook_not_found')

  r.post('/', requireApiKey, async (c) => {
    const input = await body(c, CreateWebhook)
    const { db, config } = c.var.services
    // The address is checked now, so a mistake is said at once; it is checked again before every delivery.
    try {
      await resolveWebhookTarget(new URL(input.url), config.webhooks.allowPrivate)
    } catch (e) {
      if (e instanceof WebhookTargetError) throw badRequest(e.message, e.code, { field: 'url' })
      throw e
    }
    if ((await countEndpoints(db.sql)) >= MAX_ENDPOINTS) throw conflict(`At most ${MAX_ENDPOINTS} webhook endpoints can be registered: delete one first.`, 'too_many_webhooks')
    const secret = newWebhookSecret()
    const row = await insertEndpoint(db.sql, { id: `wh_${randomBytes(8).toString('hex')}`, url: input.url, secret, events: input.events, sessionIds: input.sessionIds })
    return c.json({ ...webhookJson(row), secret } satisfies WebhookCreated, 201)
  })

  r.get('/', requireApiKey, async (c) => {
    return c.json({ webhooks: (await listEndpoints(c.var.services.db.sql)).map(webhookJson) } satisfies WebhookList)
  })

  // Deliveries not yet made go with it; one under way finishes.
  r.delete('/:id', requireApiKey, async (c) => {
    const id = pathParam(c, 'id', WebhookId, missing(c.req.param('id')))
    if (!(await deleteEndpoint(c.var.services.db.sql, id))) throw missing(id)()
    return c.body(null, 204)
  })

  return r
}
