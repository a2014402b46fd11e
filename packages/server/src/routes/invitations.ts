import { createHash, randomBytes, randomUUID } from 'node:crypto'
import { Hono, type Context } from 'hono'
import * as v from 'valibot'
import { Permission, PersonNameSchema, ROLE_RANK, ROLES, type BulkInvitationResult, type InvitationAccepted, type InvitationDeclined, type InvitationEntry, type InvitationInfo, type InvitationList, type Role } from '@session-kit/core'
import { mintGuestToken } from '../auth/tokens.js'
import { recordAction, roomAudit } from '../audit/record.js'
import { requirePermission, roomAuth } from '../http/auth.js'
import { emitEvent } from '../webhooks/events.js'
import type { AppEnv, RoomCaller, Services } from '../http/context.js'
import { AppError } from '../errors.js'
import { badRequest, conflict, notFound } from '../http/errors.js'
import { body, KeySchema, parse, pathParam } from '../http/validate.js'
import { invitationMail } from '../mail/invitation.js'
import { allowance, findByTokenHash, getInvitation, insertInvitation, listInvitations, pendingEmails, recordSends, reissue, setStatus, type InvitationRow } from '../store/invitations.js'
import { bannedAddresses, isBanned, recordJoin } from '../store/participants.js'
import { getSession } from '../store/sessions.js'

const EmailSchema = v.pipe(v.string('email must be text'), v.trim(), v.maxLength(320, 'an email address is at most 320 characters'), v.email('that is not a valid email address'))
const RoleSchema = v.picklist(ROLES, `role must be one of ${ROLES.join(', ')}`)
const Hours = v.optional(v.pipe(v.number('expiresInHours must be a number'), v.integer('expiresInHours must be whole hours'), v.minValue(1, 'an invitation lasts at least 1 hour'), v.maxValue(720, 'an invitation lasts at most 720 hours (30 days)')), 72)
/** Shown to everyone in the room and in exports: the same rule as the name claim of room tokens. */
const Name = v.optional(PersonNameSchema)

const CreateOne = v.object({ email: v.string('email must be text'), role: RoleSchema, expiresInHours: Hours, name: Name })
/** Several addresses pasted at once: separated by commas, spaces, semicolons or new lines. */
const CreateMany = v.object({ emails: v.pipe(v.string('emails must be text'), v.maxLength(20_000, 'too many addresses at once')), role: RoleSchema, expiresInHours: Hours })
const Resend = v.object({ expiresInHours: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1, 'an invitation lasts at least 1 hour'), v.maxValue(720, 'an invitation lasts at most 720 hours (30 days)'))), notify: v.optional(v.boolean(), true) })
const Accept = v.object({ name: Name })

const invitationMissing = () => notFound('No such invitation in this session.', 'invitation_not_found')
/** The path's `:id`; one that cannot be an invitation's is not found. */
const invitationId = (c: Context<AppEnv>) => pathParam(c, 'id', KeySchema, invitationMissing)

const hashToken = (token: string) => createHash('sha256').update(token).digest('hex')
const newToken = () => randomBytes(32).toString('base64url')

/** A guest's user id: the same for an address in every session, so someone invited again returns as themselves. */
export const guestUserId = (email: string) => 'guest-' + createHash('sha256').update(email.trim().toLowerCase()).digest('hex').slice(0, 24)

function inviteLink(services: Services, token: string): string {
  const url = new URL(services.config.inviteUrl)
  url.searchParams.set('invite', token)
  return url.toString()
}

export function invitationJson(i: InvitationRow, link?: string): InvitationEntry {
  return {
    id: i.id,
    email: i.email,
    name: i.name,
    role: i.role,
    status: i.status,
    inviterName: i.inviterName,
    createdAt: i.createdAt.toISOString(),
    expiresAt: i.expiresAt.toISOString(),
    sentAt: i.sentAt.toISOString(),
    respondedAt: i.respondedAt?.toISOString() ?? null,
    ...(link ? { link } : {}),
  }
}

function checkRole(caller: RoomCaller, role: Role) {
  if (ROLE_RANK[role] > ROLE_RANK[caller.ctx.role]) throw new AppError(403, 'role_too_high', `You cannot invite someone as ${role}: that is above your own role (${caller.ctx.role}).`)
}

function rateLimited(retryAfterSeconds: number): AppError {
  const e = new AppError(429, 'rate_limited', `Too many invitations: at most 20 per person per hour and 200 per session per day. Try again in ${Math.ceil(retryAfterSeconds / 60)} minute(s).`, { retryAfterSeconds })
  return e
}

async function mail(services: Services, session: { id: string; title: string }, i: InvitationRow, link: string) {
  return services.mailer.send(invitationMail({ to: i.email, sessionId: session.id, sessionTitle: session.title, inviterName: i.inviterName, role: i.role, expiresAt: new Date(i.expiresAt), link }))
}

/** Invitations: instructors invite by email; invitees accept or decline with the link's token. */
export function invitationRoutes() {
  const r = new Hono<AppEnv>()
  const guard = [roomAuth, requirePermission(Permission.INVITE_PARTICIPANTS)] as const

  r.post('/sessions/:sid/invitations', ...guard, async (c) => {
    const raw = await body(c, v.record(v.string(), v.unknown(), 'send {email, role} or {emails, role}'))
    const input = 'emails' in raw ? parse(CreateMany, raw) : parse(CreateOne, raw)
    const { caller, services } = c.var
    const { sql } = services.db
    const now = services.clock()
    const session = caller.session
    checkRole(caller, input.role)
    const bulk = 'emails' in input
    const addresses = bulk ? [...new Map(input.emails.split(/[\s,;]+/).filter(Boolean).map((a) => [a.toLowerCase(), a])).values()] : [input.email.trim()]
    if (!addresses.length) throw badRequest('Give at least one email address.', 'no_addresses')
    if (addresses.length > 200) throw badRequest('At most 200 addresses at once.', 'too_many_addresses')
    const results: BulkInvitationResult[] = []
    const valid: string[] = []
    for (const email of addresses) {
      if (v.safeParse(EmailSchema, email).success) valid.push(email)
      else results.push({ email, result: 'invalid', message: 'not a valid email address' })
    }
    if (!bulk && !valid.length) throw badRequest(`"${addresses[0]}" is not a valid email address.`, 'invalid_email', { field: 'email' })
    // Someone removed from the session is not invited back by accident: unban them first.
    const banned = await bannedAddresses(sql, session.id, valid, guestUserId)
    if (!bulk && banned.size) throw conflict(`${addresses[0]} was removed from this session; unban them in the moderation panel before inviting them again.`, 'banned')
    const pending = await pendingEmails(sql, session.id, valid, now)
    const fresh = valid.filter((e) => !pending.has(e.toLowerCase()) && !banned.has(e.toLowerCase()))
    for (const email of valid) {
      if (banned.has(email.toLowerCase())) results.push({ email, result: 'banned', message: 'was removed from this session' })
      else if (pending.has(email.toLowerCase())) results.push({ email, result: 'already_invited', message: 'already has a pending invitation' })
    }
    if (!bulk && !fresh.length) throw conflict(`${addresses[0]} already has a pending invitation to this session: resend it instead.`, 'already_invited')
    const created: { row: InvitationRow; link: string }[] = []
    let retryAfter = 0
    await sql.begin(async (tx) => {
      const { allowed, retryAfterSeconds } = await allowance(tx, session.id, caller.claims.sub, fresh.length, now)
      retryAfter = retryAfterSeconds
      for (const email of fresh.slice(0, allowed)) {
        const token = newToken()
        const id = randomUUID()
        await insertInvitation(tx, { id, sessionId: session.id, email, name: bulk ? null : (input.name ?? null), role: input.role, tokenHash: hashToken(token), invitedBy: caller.claims.sub, inviterName: caller.claims.name, expiresInHours: input.expiresInHours, now })
        // The invitee as the user id they will have (never their address: the log keeps no addresses).
        await recordAction(tx, { ...roomAudit(c), action: 'invitation.sent', targetId: guestUserId(email), details: { invitationId: id, role: input.role } })
        created.push({ row: (await getInvitation(tx, session.id, id, now))!, link: inviteLink(services, token) })
      }
      await recordSends(tx, session.id, caller.claims.sub, created.length, now)
    })
    for (const email of fresh.slice(created.length)) results.push({ email, result: 'rate_limited', message: 'over the invitation limit' })
    if (!created.length && fresh.length) {
      c.header('Retry-After', String(retryAfter))
      throw rateLimited(retryAfter)
    }
    for (const { row, link } of created) {
      await mail(services, session, row, link)
      results.push({ email: row.email, result: 'created', invitation: { ...invitationJson(row), link } })
    }
    if (!bulk) return c.json(invitationJson(created[0]!.row, created[0]!.link), 201)
    const order = new Map(addresses.map((a, i) => [a.toLowerCase(), i]))
    results.sort((a, b) => order.get(a.email.toLowerCase())! - order.get(b.email.toLowerCase())!)
    return c.json({ results }, created.length ? 201 : 200)
  })

  r.get('/sessions/:sid/invitations', ...guard, async (c) => {
    const { caller, services } = c.var
    const rows = await listInvitations(services.db.sql, caller.session.id, services.clock())
    return c.json({ invitations: rows.map((row) => invitationJson(row)) } satisfies InvitationList)
  })

  r.post('/sessions/:sid/invitations/:id/resend', ...guard, async (c) => {
    const input = await body(c, Resend)
    const { caller, services } = c.var
    const { sql } = services.db
    const now = services.clock()
    const existing = await getInvitation(sql, caller.session.id, invitationId(c), now)
    if (!existing) throw invitationMissing()
    if (existing.status === 'accepted' || existing.status === 'revoked') throw conflict(`This invitation was ${existing.status}; invite the address again instead.`, `invitation_${existing.status}`)
    const token = newToken()
    const hours = input.expiresInHours ?? existing.expiresInHours
    let retryAfter = 0
    const ok = await sql.begin(async (tx) => {
      const { allowed, retryAfterSeconds } = await allowance(tx, caller.session.id, caller.claims.sub, 1, now)
      retryAfter = retryAfterSeconds
      if (!allowed) return false
      await reissue(tx, existing.id, hashToken(token), hours, now)
      await recordAction(tx, { ...roomAudit(c), action: 'invitation.sent', targetId: guestUserId(existing.email), details: { invitationId: existing.id, role: existing.role, resent: true, mailed: input.notify } })
      await recordSends(tx, caller.session.id, caller.claims.sub, 1, now)
      return true
    })
    if (!ok) {
      c.header('Retry-After', String(retryAfter))
      throw rateLimited(retryAfter)
    }
    const row = (await getInvitation(sql, caller.session.id, existing.id, now))!
    const link = inviteLink(services, token)
    if (input.notify) await mail(services, caller.session, row, link)
    services.hub.invitationChanged(caller.session.id, row.id, row.status)
    return c.json(invitationJson(row, link))
  })

  r.delete('/sessions/:sid/invitations/:id', ...guard, async (c) => {
    const { caller, services } = c.var
    const now = services.clock()
    const existing = await getInvitation(services.db.sql, caller.session.id, invitationId(c), now)
    if (!existing) throw invitationMissing()
    if (existing.status !== 'pending' && existing.status !== 'expired') throw conflict(`This invitation was already ${existing.status}.`, `invitation_${existing.status}`)
    await setStatus(services.db.sql, existing.id, 'revoked', now)
    await recordAction(services.db.sql, { ...roomAudit(c), action: 'invitation.revoked', targetId: guestUserId(existing.email), details: { invitationId: existing.id } })
    services.hub.invitationChanged(caller.session.id, existing.id, 'revoked')
    return c.json(invitationJson((await getInvitation(services.db.sql, caller.session.id, existing.id, now))!))
  })

  // ---- the invitee's side: no room token, the link's token is the credential ----

  const gone: Record<string, string> = {
    accepted: 'This invitation has already been used.',
    declined: 'This invitation was declined.',
    revoked: 'This invitation was withdrawn by the instructor.',
    expired: 'This invitation has expired: ask the instructor for a new one.',
  }

  r.get('/invitations/:token', async (c) => {
    const { services } = c.var
    const row = await findByTokenHash(services.db.sql, hashToken(c.req.param('token')), services.clock())
    if (!row) throw notFound('This invitation link is not valid (it may have been replaced by a newer one).', 'invitation_not_found')
    const session = await getSession(services.db.sql, row.sessionId)
    return c.json({ id: row.id, sessionId: row.sessionId, sessionTitle: session?.title ?? row.sessionId, role: row.role, inviterName: row.inviterName, email: row.email, name: row.name, status: row.status, expiresAt: row.expiresAt.toISOString() } satisfies InvitationInfo)
  })

  for (const action of ['accept', 'decline'] as const) {
    r.post(`/invitations/:token/${action}`, async (c) => {
      const input = action === 'accept' ? await body(c, Accept) : { name: undefined }
      const { services } = c.var
      const { sql } = services.db
      const now = services.clock()
      const outcome = await sql.begin(async (tx) => {
        const row = await findByTokenHash(tx, hashToken(c.req.param('token')), now, true)
        if (!row) throw notFound('This invitation link is not valid (it may have been replaced by a newer one).', 'invitation_not_found')
        if (row.status !== 'pending') throw new AppError(410, `invitation_${row.status}`, gone[row.status]!, { status: row.status })
        const userId = guestUserId(row.email)
        if (action === 'accept' && (await isBanned(tx as never, row.sessionId, userId, row.email))) {
          throw new AppError(403, 'removed', 'You were removed from this session, so this invitation cannot be used.')
        }
        await setStatus(tx, row.id, action === 'accept' ? 'accepted' : 'declined', now, action === 'accept' ? userId : null)
        if (action === 'accept') await emitEvent(tx, { type: 'invitation.accepted', data: { sessionId: row.sessionId, invitationId: row.id, userId, role: row.role }, at: now })
        return { row, userId }
      })
      const { row, userId } = outcome as { row: InvitationRow; userId: string }
      services.hub.invitationChanged(row.sessionId, row.id, action === 'accept' ? 'accepted' : 'declined')
      if (action === 'decline') return c.json({ status: 'declined' } satisfies InvitationDeclined)
      const name = input.name ?? row.name ?? row.email.split('@')[0]!
      const claims = { sub: userId, name, sid: row.sessionId, role: row.role, email: row.email }
      const session = await getSession(sql, row.sessionId)
      if (!session) throw new AppError(410, 'token_session_gone', 'The session this invitation was for has ended.')
      await recordJoin(sql, row.sessionId, { ...claims, exp: 0 })
      const token = await mintGuestToken(claims, session, services.config.secret)
      return c.json({ token, sessionId: row.sessionId, role: row.role, userId, name } satisfies InvitationAccepted)
    })
  }
  return r
}
