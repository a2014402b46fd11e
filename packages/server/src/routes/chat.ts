import { Hono } from 'hono'
import * as v from 'valibot'
import { Permission, type ChatPage } from '@session-kit/core'
import { recordAction, roomAudit } from '../audit/record.js'
import { requirePermission, roomAuth } from '../http/auth.js'
import type { AppEnv } from '../http/context.js'
import { notFound } from '../http/errors.js'
import { parse, pathParam, RowIdSchema, wholeNumber } from '../http/validate.js'
import { deleteChat, getChat, listChat } from '../store/chat.js'
import { chatMessage } from '../sync/activity.js'

const Page = v.object({
  /** A message id: the page ends before it. */
  before: v.optional(wholeNumber('before', { min: 1 })),
  limit: v.optional(wholeNumber('limit', { min: 1, max: 200 }), '50'),
})

/** Chat history and moderation; new messages travel over the room's WebSocket. */
export function chatRoutes() {
  const r = new Hono<AppEnv>()
  r.get('/:sid/chat', roomAuth, requirePermission(Permission.VIEW_CODE), async (c) => {
    const q = parse(Page, c.req.query())
    const rows = await listChat(c.var.services.db.sql, c.var.caller.session.id, { before: q.before, limit: q.limit + 1 })
    const more = rows.length > q.limit
    const page = more ? rows.slice(1) : rows
    return c.json({ messages: page.map(chatMessage), before: more ? page[0]!.id : null } satisfies ChatPage)
  })
  r.delete('/:sid/chat/:id', roomAuth, requirePermission(Permission.MODERATE_CHAT), async (c) => {
    const missing = () => notFound('No such message in this session.', 'message_not_found')
    const id = pathParam(c, 'id', RowIdSchema, missing)
    const sid = c.var.caller.session.id
    if (!(await deleteChat(c.var.services.db.sql, sid, id, c.var.caller.claims.sub))) throw missing()
    // On the record against the message's author (whose words were taken down), not its text.
    const author = (await getChat(c.var.services.db.sql, sid, id))?.userId ?? null
    await recordAction(c.var.services.db.sql, { ...roomAudit(c), action: 'chat.message_deleted', targetId: author, details: { messageId: id } })
    c.var.services.hub.chatDeleted(sid, id)
    return c.body(null, 204)
  })
  return r
}
