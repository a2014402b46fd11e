import { Hono } from 'hono'
import * as v from 'valibot'
import { Permission } from '@session-kit/core'
import { requirePermission, roomAuth } from '../http/auth.js'
import type { AppEnv } from '../http/context.js'
import { notFound } from '../http/errors.js'
import { parse } from '../http/validate.js'
import { deleteChat, listChat } from '../store/chat.js'
import { chatMessage } from '../sync/hub.js'

const Page = v.object({
  before: v.optional(v.pipe(v.string(), v.transform(Number), v.integer('before must be a message id'), v.minValue(1))),
  limit: v.optional(v.pipe(v.string(), v.transform(Number), v.integer('limit must be a whole number'), v.minValue(1), v.maxValue(200)), '50'),
})

/** Chat history and moderation; new messages travel over the room's WebSocket. */
export function chatRoutes() {
  const r = new Hono<AppEnv>()
  r.get('/:sid/chat', roomAuth, requirePermission(Permission.VIEW_CODE), async (c) => {
    const q = parse(Page, c.req.query())
    const rows = await listChat(c.var.services.db.sql, c.var.caller.session.id, { before: q.before, limit: q.limit + 1 })
    const more = rows.length > q.limit
    const page = more ? rows.slice(1) : rows
    return c.json({ messages: page.map(chatMessage), before: more ? page[0]!.id : null })
  })
  r.delete('/:sid/chat/:id', roomAuth, requirePermission(Permission.MODERATE_CHAT), async (c) => {
    const id = Number(c.req.param('id'))
    const sid = c.var.caller.session.id
    if (!Number.isInteger(id) || !(await deleteChat(c.var.services.db.sql, sid, id, c.var.caller.claims.sub))) throw notFound('No such message in this session.', 'message_not_found')
    c.var.services.hub.chatDeleted(sid, id)
    return c.body(null, 204)
  })
  return r
}
