import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { can, mayActOn, Permission, Role, Rule, type Action, type ParticipantAction, type PermissionContext } from '@session-kit/core'
import { mintToken } from './auth/tokens.js'
import { RawClient } from './testing/client.js'
import { startTestServer, TEST_API_KEY, TEST_SECRET, type TestServer } from './testing/server.js'

// The authorization sweep: every room route and every event type, for every kind of participant,
// allowed exactly when core's `can()` says so — the permission matrix is the one source of truth.

interface Who {
  label: string
  user: string
  role: Role
  /** What the owner does to them first (a role override, a mute). */
  setup?: 'promote' | 'mute'
}

const PEOPLE: Who[] = [
  { label: 'the owner (instructor)', user: 'owner', role: Role.Instructor },
  { label: 'another instructor', user: 'ins2', role: Role.Instructor },
  { label: 'a learner', user: 'lea', role: Role.Learner },
  { label: 'a muted learner', user: 'muted', role: Role.Learner, setup: 'mute' },
  { label: 'a learner promoted to instructor in the room', user: 'promoted', role: Role.Learner, setup: 'promote' },
  { label: 'an observer', user: 'obs', role: Role.Observer },
]

/**
 * Routes under a session that take no room permission: the sync socket (it checks in its hello)
 * and the host's own route to end a session (the API key, tested in sessions.test.ts).
 */
const NOT_PERMISSION_ROUTES = new Set(['GET /v1/sessions/:sid/sync', 'DELETE /v1/sessions/:sid'])

/** The API contract (docs/api.md): which permission or rule each room route needs. */
const CONTRACT: Record<string, string> = {
  'GET /v1/sessions/:sid': 'VIEW_CODE',
  'PATCH /v1/sessions/:sid': 'MANAGE_SESSION',
  'POST /v1/sessions/:sid/lock': 'MUTE_PARTICIPANT',
  'POST /v1/sessions/:sid/unlock': 'MUTE_PARTICIPANT',
  'GET /v1/sessions/:sid/document': 'VIEW_CODE',
  'POST /v1/sessions/:sid/files': 'MANAGE_FILES',
  'PATCH /v1/sessions/:sid/files/:name': 'MANAGE_FILES',
  'DELETE /v1/sessions/:sid/files/:name': 'MANAGE_FILES',
  'GET /v1/sessions/:sid/participants': 'VIEW_CODE',
  'POST /v1/sessions/:sid/participants/:uid/mute': 'MUTE_PARTICIPANT',
  'POST /v1/sessions/:sid/participants/:uid/unmute': 'MUTE_PARTICIPANT',
  'POST /v1/sessions/:sid/participants/:uid/kick': 'KICK_PARTICIPANT',
  'POST /v1/sessions/:sid/participants/:uid/unban': 'KICK_PARTICIPANT',
  'PATCH /v1/sessions/:sid/participants/:uid': 'REMOVE_PARTICIPANTS',
  'POST /v1/sessions/:sid/mute-all': 'MUTE_PARTICIPANT',
  'POST /v1/sessions/:sid/unmute-all': 'MUTE_PARTICIPANT',
  'GET /v1/sessions/:sid/chat': 'VIEW_CODE',
  'DELETE /v1/sessions/:sid/chat/:id': 'MODERATE_CHAT',
  'POST /v1/sessions/:sid/invitations': 'INVITE_PARTICIPANTS',
  'GET /v1/sessions/:sid/invitations': 'INVITE_PARTICIPANTS',
  'POST /v1/sessions/:sid/invitations/:id/resend': 'INVITE_PARTICIPANTS',
  'DELETE /v1/sessions/:sid/invitations/:id': 'INVITE_PARTICIPANTS',
  'POST /v1/sessions/:sid/roster': 'INVITE_PARTICIPANTS',
  'POST /v1/sessions/:sid/snapshots': 'CREATE_SNAPSHOT',
  'GET /v1/sessions/:sid/snapshots': 'VIEW_CODE',
  'GET /v1/sessions/:sid/snapshots/:id': 'VIEW_CODE',
  'GET /v1/sessions/:sid/snapshots/:id/export': 'VIEW_CODE',
  'POST /v1/sessions/:sid/snapshots/:id/restore': 'RESTORE_SNAPSHOT',
  'DELETE /v1/sessions/:sid/snapshots/:id': 'VIEW_CODE',
  'GET /v1/sessions/:sid/analytics': 'VIEW_ANALYTICS',
  'GET /v1/sessions/:sid/analytics/export': 'EXPORT_DATA',
  'GET /v1/sessions/:sid/analytics/me': 'VIEW_OWN_ACTIVITY',
  'GET /v1/sessions/:sid/audit': 'EXPORT_DATA',
  'POST /v1/sessions/:sid/recordings': 'CREATE_RECORDING',
  'POST /v1/sessions/:sid/recordings/:id/pause': 'MANAGE_RECORDINGS',
  'POST /v1/sessions/:sid/recordings/:id/resume': 'MANAGE_RECORDINGS',
  'POST /v1/sessions/:sid/recordings/:id/stop': 'MANAGE_RECORDINGS',
  'GET /v1/sessions/:sid/recordings': 'VIEW_CODE',
  'GET /v1/sessions/:sid/recordings/:id': 'VIEW_CODE',
  'PATCH /v1/sessions/:sid/recordings/:id': 'MANAGE_RECORDINGS',
  'DELETE /v1/sessions/:sid/recordings/:id': 'MANAGE_RECORDINGS',
  'GET /v1/sessions/:sid/recordings/:id/events': 'VIEW_CODE',
  'GET /v1/sessions/:sid/recordings/:id/download': 'VIEW_CODE',
  'POST /v1/sessions/:sid/recording-consent': 'VIEW_CODE',
  'POST /v1/sessions/:sid/runs': 'EXECUTE_CODE',
  'GET /v1/sessions/:sid/runs': 'VIEW_CODE',
  'GET /v1/sessions/:sid/runs/:id': 'VIEW_CODE',
  'GET /v1/sessions/:sid/hidden-files': 'MANAGE_FILES',
  'GET /v1/sessions/:sid/hidden-files/:name': 'MANAGE_FILES',
  'PUT /v1/sessions/:sid/hidden-files/:name': 'MANAGE_FILES',
  'DELETE /v1/sessions/:sid/hidden-files/:name': 'MANAGE_FILES',
}

describe('authorization sweep (PGlite)', () => {
  let s: TestServer
  before(async () => {
    s = await startTestServer('pglite')
  })
  after(() => s.stop())

  async function room(sid: string) {
    const created = await s.api('POST', '/v1/sessions', TEST_API_KEY, { id: sid, title: sid, ownerId: 'owner', files: { 'main.js': 'x' } })
    assert.equal(created.status, 201)
    const tokens = new Map<string, string>()
    for (const p of PEOPLE) tokens.set(p.user, await s.token(sid, p.role, p.user, { name: p.label }))
    // Everyone joins once (so the owner can act on them), then the owner sets overrides and mutes.
    for (const p of PEOPLE) {
      const c = await RawClient.connect(s.url, sid, tokens.get(p.user)!, { sync: false })
      assert.ok(c.welcome, `${p.label} joined`)
      c.close()
    }
    const owner = tokens.get('owner')!
    for (const p of PEOPLE) {
      if (p.setup === 'promote') assert.equal((await s.api('PATCH', `/v1/sessions/${sid}/participants/${p.user}`, owner, { role: 'instructor' })).status, 200)
      if (p.setup === 'mute') assert.equal((await s.api('POST', `/v1/sessions/${sid}/participants/${p.user}/mute`, owner)).status, 200)
    }
    return tokens
  }

  /** The audit log's newest entry id now (the host's view of it). */
  async function auditMark(): Promise<number> {
    const { json } = await s.api('GET', '/v1/audit?limit=1', TEST_API_KEY)
    return json.entries[0]?.id ?? 0
  }
  /** The audit entries of session `sid` after `mark`, oldest first. */
  async function auditSince(sid: string, mark: number): Promise<{ action: string; actorId: string | null; targetId: string | null; sessionId: string }[]> {
    const { json } = await s.api('GET', `/v1/audit?sessionId=${sid}&limit=200`, TEST_API_KEY)
    return json.entries.filter((e: { id: number }) => e.id > mark).reverse()
  }

  /** What the room holds about someone now, as core's context. */
  async function context(sid: string, token: string): Promise<PermissionContext> {
    const { json } = await s.api('GET', `/v1/sessions/${sid}`, token)
    const r = json as { editingLocked: boolean; you: { userId: string; role: Role; owner: boolean; muted: boolean } }
    return { role: r.you.role, userId: r.you.userId, owner: r.you.owner, muted: r.you.muted, editingLocked: r.editingLocked }
  }

  it('every room route allows exactly the people core’s matrix allows, and names the permission when it refuses', async () => {
    const sid = 'sweep-http'
    const tokens = await room(sid)
    const routes = s.app.routes.filter((r) => r.path.startsWith('/v1/sessions/:sid') && r.method !== 'ALL')
    const guarded = new Map<string, Action>()
    for (const r of routes) {
      const requires = (r.handler as { requires?: Action }).requires
      if (requires) guarded.set(`${r.method} ${r.path}`, requires)
    }
    const unguarded = [...new Set(routes.map((r) => `${r.method} ${r.path}`))].filter((k) => !guarded.has(k) && !NOT_PERMISSION_ROUTES.has(k))
    assert.deepEqual(unguarded, [], 'every room route states its permission')
    assert.deepEqual(Object.fromEntries(guarded), CONTRACT, 'each route is guarded by the permission docs/api.md gives it')

    let cases = 0
    for (const [key, action] of guarded) {
      const [method, pattern] = key.split(' ') as [string, string]
      const path = pattern.replace(':sid', sid).replace(':uid', 'nobody').replace(':id', 'missing').replace(':name', 'missing.js')
      for (const p of PEOPLE) {
        const token = tokens.get(p.user)!
        const allowed = can(await context(sid, token), action)
        const res = await s.api(method, path, token, method === 'GET' || method === 'DELETE' ? undefined : {})
        const refusal = res.status === 403 && (res.json as { error?: { code?: string; permission?: string } })?.error
        if (allowed) assert.ok(!refusal || refusal.code !== 'forbidden', `${key} should be allowed for ${p.label} (${res.status})`)
        else {
          assert.equal(res.status, 403, `${key} should be refused to ${p.label}`)
          assert.equal((refusal as { permission?: string }).permission, action, `${key} names ${action}`)
        }
        cases++
      }
    }
    assert.equal(cases, guarded.size * PEOPLE.length)
    console.log(`authorization sweep: ${guarded.size} routes × ${PEOPLE.length} kinds of participant = ${cases} cases`)
  })

  it('acting on someone follows core’s mayActOn: only the owner acts on instructors, nobody on the owner', async () => {
    const sid = 'sweep-people'
    const tokens = await room(sid)
    const owner = tokens.get('owner')!
    const base = `/v1/sessions/${sid}/participants`
    // Before the fix another instructor could demote or remove instructors and hide the owner.
    const ACTS: { label: string; action: ParticipantAction; permission: Permission; audit: string; newRole?: Role; run: (u: string) => [string, string, unknown?]; undo: (u: string, role: Role) => [string, string, unknown?] }[] = [
      { label: 'mute', action: 'mute', audit: 'participant.muted', permission: Permission.MUTE_PARTICIPANT, run: (u) => ['POST', `${base}/${u}/mute`], undo: (u) => ['POST', `${base}/${u}/unmute`] },
      { label: 'hide', action: 'hide', audit: 'participant.hidden', permission: Permission.REMOVE_PARTICIPANTS, run: (u) => ['PATCH', `${base}/${u}`, { hidden: true }], undo: (u) => ['PATCH', `${base}/${u}`, { hidden: false }] },
      { label: 'make an observer', action: 'change-role', audit: 'participant.role_changed', newRole: Role.Observer, permission: Permission.REMOVE_PARTICIPANTS, run: (u) => ['PATCH', `${base}/${u}`, { role: 'observer' }], undo: (u, role) => ['PATCH', `${base}/${u}`, { role }] },
      { label: 'make an instructor', action: 'change-role', audit: 'participant.role_changed', newRole: Role.Instructor, permission: Permission.REMOVE_PARTICIPANTS, run: (u) => ['PATCH', `${base}/${u}`, { role: 'instructor' }], undo: (u, role) => ['PATCH', `${base}/${u}`, { role }] },
      { label: 'remove', action: 'remove', audit: 'participant.removed', permission: Permission.KICK_PARTICIPANT, run: (u) => ['POST', `${base}/${u}/kick`], undo: (u) => ['POST', `${base}/${u}/unban`] },
    ]
    const TARGETS = ['owner', 'ins2', 'promoted', 'lea', 'obs']
    let cases = 0
    for (const actor of PEOPLE) {
      const token = tokens.get(actor.user)!
      for (const target of TARGETS) {
        for (const act of ACTS) {
          const ctx = await context(sid, token)
          const them = await context(sid, tokens.get(target)!)
          const self = target === actor.user
          const expected = can(ctx, act.permission) && mayActOn(ctx, { userId: target, role: them.role, owner: Boolean(them.owner) }, act.action, act.newRole) && !(act.action === 'remove' && self)
          const [method, path, body] = act.run(target)
          const mark = await auditMark()
          const res = await s.api(method, path, token, body)
          const what = `${actor.label} → ${act.label} ${target} (${res.status} ${JSON.stringify(res.json?.error ?? '')})`
          // Done: exactly one audit entry saying who did it to whom; refused: none.
          const audited = await auditSince(sid, mark)
          assert.deepEqual(audited.map((e) => ({ action: e.action, actorId: e.actorId, targetId: e.targetId })), expected ? [{ action: act.audit, actorId: actor.user, targetId: target }] : [], `audit log: ${what}`)
          if (expected) {
            assert.equal(res.status, 200, what)
            const [um, up, ub] = act.undo(target, them.role)
            assert.equal((await s.api(um, up, owner, ub)).status, 200, `undo: ${what}`)
          } else {
            assert.ok(res.status === 403 || (self && res.status === 400), what)
          }
          cases++
        }
      }
    }
    console.log(`authorization sweep: ${ACTS.length} actions × ${TARGETS.length} targets × ${PEOPLE.length} kinds of participant = ${cases} cases`)
  })

  it('every event a client can send is allowed exactly when core’s matrix allows it', async () => {
    const sid = 'sweep-events'
    const tokens = await room(sid)
    // A learner's room of an assignment the owner owns (the others' tokens name no assignment).
    const made = await s.api('POST', '/v1/assignments', TEST_API_KEY, { id: 'sweep-hw', title: 'Sweep', instructions: '', language: 'javascript', files: { 'main.js': '1\n' }, tests: { visible: {}, hidden: {} }, ownerId: 'owner' })
    assert.equal(made.status, 201, JSON.stringify(made.json))
    const learnerToken = await mintToken({ sub: 'grace', name: 'Grace', role: 'learner', assignment: 'sweep-hw' }, TEST_SECRET, { ttl: '1h' })
    const learnerRoom = (await s.api('POST', '/v1/assignments/sweep-hw/open', learnerToken)).json.sessionId as string
    let cases = 0
    for (const p of PEOPLE) {
      const token = tokens.get(p.user)!
      const ctx = await context(sid, token)
      const c = await RawClient.connect(s.url, sid, token)
      assert.ok(await c.waitFor(() => c.text() !== undefined), `${p.label} synced`)

      // Chat (POST_CHAT): shared, or an error with the reason and the socket stays open.
      c.send({ type: 'chat', text: `hello from ${p.user}` })
      assert.ok(await c.waitFor(() => c.events.some((e) => (e.type === 'chat' && e.message.userId === p.user) || e.type === 'error')), `${p.label}: chat answered`)
      assert.equal(c.events.some((e) => e.type === 'chat' && e.message.userId === p.user), can(ctx, Rule.POST_CHAT), `${p.label}: chat`)

      // A run report (EXECUTE_CODE).
      const errors = c.events.filter((e) => e.type === 'error').length
      c.send({ type: 'run', run: { file: 'main.js', language: 'javascript', ok: true, errors: 0, durationMs: 1, output: '' } })
      assert.ok(await c.waitFor(() => c.events.some((e) => e.type === 'run' && e.run.userId === p.user) || c.events.filter((e) => e.type === 'error').length > errors), `${p.label}: run answered`)
      assert.equal(c.events.some((e) => e.type === 'run' && e.run.userId === p.user), can(ctx, Permission.EXECUTE_CODE), `${p.label}: run`)

      // Lecture mode: each event changes the lecture, or is refused (`forbidden`, with the reason) and changes nothing.
      const lectureEvents = () => c.events.filter((e) => e.type === 'lecture')
      const lastLecture = () => lectureEvents().at(-1)?.lecture
      const answered = async (what: string, send: unknown, applied: () => boolean, rule: Rule) => {
        const errorsBefore = c.events.filter((e) => e.type === 'error').length
        c.send(send)
        assert.ok(await c.waitFor(() => applied() || c.events.filter((e) => e.type === 'error').length > errorsBefore), `${p.label}: ${what} answered`)
        assert.equal(applied(), can(ctx, rule), `${p.label}: ${what}`)
        if (!applied()) assert.equal(c.events.filter((e) => e.type === 'error').at(-1).code, 'forbidden', `${p.label}: ${what} refused as forbidden`)
      }
      await answered('follow me', { type: 'follow', on: true }, () => lastLecture()?.follow?.userId === p.user, Rule.LEAD_LECTURE)
      await answered('stop following', { type: 'follow', on: false }, () => lectureEvents().some((e) => e.change?.kind === 'follow-stopped' && e.change.userId === p.user), Rule.LEAD_LECTURE)
      const handUp = () => lastLecture()?.hands.some((h: { userId: string }) => h.userId === p.user) === true
      await answered('raise a hand', { type: 'hand', raised: true, question: `from ${p.user}` }, handUp, Rule.RAISE_HAND)
      await answered('lower one’s own hand', { type: 'hand', raised: false }, () => lectureEvents().some((e) => e.change?.kind === 'hand-lowered' && e.change.userId === p.user), Rule.RAISE_HAND)
      c.send({ type: 'hand', raised: true })
      assert.ok(await c.waitFor(handUp), `${p.label}: hand up again`)
      let mark = await auditMark()
      await answered('lower every hand', { type: 'hand', raised: false, all: true }, () => lectureEvents().some((e) => e.change?.kind === 'hands-cleared'), Rule.LEAD_LECTURE)
      assert.deepEqual((await auditSince(sid, mark)).map((e) => [e.action, e.actorId]), can(ctx, Rule.LEAD_LECTURE) ? [['lecture.hands_cleared', p.user]] : [], `${p.label}: lowering every hand is audited when done`)
      c.send({ type: 'hand', raised: false })
      assert.ok(await c.waitFor(() => lastLecture()?.handCount === 0), `${p.label}: every hand down`)
      mark = await auditMark()
      await answered('spotlight someone', { type: 'spotlight', userId: 'lea' }, () => lastLecture()?.spotlight?.userId === 'lea', Rule.LEAD_LECTURE)
      assert.deepEqual((await auditSince(sid, mark)).map((e) => [e.action, e.actorId, e.targetId]), can(ctx, Rule.LEAD_LECTURE) ? [['lecture.spotlight_started', p.user, 'lea']] : [], `${p.label}: a spotlight is audited when done`)
      await answered('end the spotlight', { type: 'spotlight', userId: null }, () => lectureEvents().some((e) => e.change?.kind === 'spotlight-stopped'), Rule.LEAD_LECTURE)
      // Spotlighting a learner's assignment room also needs to instruct that assignment: here, the owner's.
      const roomShown = () => lastLecture()?.spotlight?.sessionId === learnerRoom
      const errorsBefore = c.events.filter((e) => e.type === 'error').length
      c.send({ type: 'spotlight', userId: null, sessionId: learnerRoom })
      assert.ok(await c.waitFor(() => roomShown() || c.events.filter((e) => e.type === 'error').length > errorsBefore), `${p.label}: room spotlight answered`)
      assert.equal(roomShown(), can(ctx, Rule.LEAD_LECTURE) && p.user === 'owner', `${p.label}: room spotlight`)
      if (!roomShown()) assert.equal(c.events.filter((e) => e.type === 'error').at(-1).code, 'forbidden', `${p.label}: room spotlight refused as forbidden`)
      else {
        c.send({ type: 'spotlight', userId: null })
        assert.ok(await c.waitFor(() => lastLecture()?.spotlight === null), `${p.label}: room spotlight ended`)
      }

      // An edit (EDIT_CODE): acknowledged, or refused and the connection closed with 4003.
      c.type('main.js', 0, p.user[0]!)
      assert.ok(await c.waitFor(() => c.acked.size > 0 || c.closed !== null), `${p.label}: edit answered`)
      assert.equal(c.acked.size > 0, can(ctx, Permission.EDIT_CODE), `${p.label}: edit`)
      if (!can(ctx, Permission.EDIT_CODE)) {
        assert.ok(await c.waitFor(() => c.closed !== null), `${p.label}: closed`)
        assert.equal(c.closed!.code, 4003)
      }
      c.close()
      cases += 11
    }
    console.log(`authorization sweep: 11 events (chat, run, edit, follow on/off, hand raise/lower-all/lower-own, spotlight start/stop, room spotlight) × ${PEOPLE.length} kinds of participant = ${cases} cases`)
  })
})

/** Who may call each assignment route (docs/api.md, "Assignments"): see `assignmentAuth` in http/auth.ts. */
const ASSIGNMENT_CONTRACT: Record<string, 'host' | 'instructor' | 'member' | 'learner'> = {
  'POST /v1/assignments': 'instructor',
  'GET /v1/assignments': 'instructor',
  'GET /v1/assignments/:aid': 'member',
  'PATCH /v1/assignments/:aid': 'instructor',
  'POST /v1/assignments/:aid/close': 'instructor',
  'DELETE /v1/assignments/:aid': 'host',
  'GET /v1/assignments/:aid/analytics': 'instructor',
  'POST /v1/assignments/:aid/open': 'learner',
  'GET /v1/assignments/:aid/rooms': 'instructor',
  'POST /v1/assignments/:aid/rooms/:userId/open': 'instructor',
  'POST /v1/assignments/:aid/submit': 'learner',
  'GET /v1/assignments/:aid/updates': 'learner',
  'POST /v1/assignments/:aid/updates/accept': 'learner',
  'POST /v1/assignments/:aid/roster': 'instructor',
}
/** The two routes without an assignment in the path check their callers themselves (the assignment is the token's). */
const ASSIGNMENT_SELF_CHECKED = new Set(['POST /v1/assignments', 'GET /v1/assignments'])

describe('authorization sweep: assignments (PGlite)', () => {
  let s: TestServer
  before(async () => {
    s = await startTestServer('pglite')
  })
  after(() => s.stop())

  it('every assignment route allows exactly the callers its access names', async () => {
    const aid = 'sweep-asg'
    const created = await s.api('POST', '/v1/assignments', TEST_API_KEY, { id: aid, title: 'Sweep', instructions: '', language: 'javascript', files: { 'main.js': 'x' }, ownerId: 'owner' })
    assert.equal(created.status, 201, JSON.stringify(created.json))
    const tok = (role: Role, sub: string, assignment = aid) => mintToken({ sub, name: sub, role, assignment }, TEST_SECRET, { ttl: '1h' })
    const learner = await tok(Role.Learner, 'lea')
    assert.equal((await s.api('POST', `/v1/assignments/${aid}/open`, learner)).status, 201)
    const CALLERS: { label: string; token: string | undefined; kind: 'host' | Role | 'other' | 'room' | 'none' }[] = [
      { label: 'no token', token: undefined, kind: 'none' },
      { label: 'an instructor of another assignment', token: await tok(Role.Instructor, 'ins-x', 'other-asg'), kind: 'other' },
      { label: 'a room token without the assignment', token: await s.token('some-room', Role.Instructor, 'ins'), kind: 'room' },
      { label: 'an observer of the assignment', token: await tok(Role.Observer, 'obs'), kind: Role.Observer },
      { label: 'a learner of the assignment', token: learner, kind: Role.Learner },
      { label: 'an instructor of the assignment', token: await tok(Role.Instructor, 'ins'), kind: Role.Instructor },
      { label: 'the host (API key)', token: TEST_API_KEY, kind: 'host' },
    ]
    const allows = (access: string, kind: (typeof CALLERS)[number]['kind'], key: string) => {
      if (kind === 'none' || kind === 'room') return false
      // Creating and listing: an instructor's token acts on the assignment it is for, whichever that is.
      if (kind === 'other') return ASSIGNMENT_SELF_CHECKED.has(key)
      if (kind === 'host') return access !== 'learner'
      if (access === 'member') return true
      if (access === 'learner') return kind === Role.Learner
      return access === 'instructor' && kind === Role.Instructor
    }

    const routes = s.app.routes.filter((r) => r.path.startsWith('/v1/assignments') && r.method !== 'ALL')
    const declared = new Map<string, string>()
    for (const r of routes) {
      const access = (r.handler as { access?: string }).access
      if (access) declared.set(`${r.method} ${r.path}`, access)
    }
    const keys = [...new Set(routes.map((r) => `${r.method} ${r.path}`))]
    assert.deepEqual(keys.filter((k) => !declared.has(k) && !ASSIGNMENT_SELF_CHECKED.has(k)), [], 'every assignment route states who may call it')
    assert.deepEqual(Object.keys(ASSIGNMENT_CONTRACT).sort(), keys.sort(), 'the contract lists every assignment route')
    for (const [key, access] of declared) assert.equal(access, ASSIGNMENT_CONTRACT[key], `${key} is guarded as docs/api.md says`)

    // Deleting goes last (it takes the assignment away).
    const order = keys.sort((a, b) => Number(a.startsWith('DELETE')) - Number(b.startsWith('DELETE')))
    let cases = 0
    for (const key of order) {
      const [method, pattern] = key.split(' ') as [string, string]
      const path = pattern.replace(':aid', aid).replace(':userId', 'lea')
      for (const who of CALLERS) {
        const res = await s.api(method, path, who.token, method === 'GET' || method === 'DELETE' ? undefined : {})
        const what = `${key} by ${who.label} → ${res.status} ${JSON.stringify(res.json?.error ?? '')}`
        if (allows(ASSIGNMENT_CONTRACT[key]!, who.kind, key)) assert.ok(res.status !== 401 && res.status !== 403, what)
        else {
          assert.ok(res.status === 401 || res.status === 403, what)
          if (who.kind === 'none' || who.kind === 'other' || who.kind === 'room') assert.equal(res.status, 401, what)
          else assert.equal(res.json.error.code, 'forbidden', what)
        }
        cases++
      }
    }
    console.log(`authorization sweep: ${keys.length} assignment routes × ${CALLERS.length} kinds of caller = ${cases} cases`)
  })
})

/**
 * The LTI routes a browser or an LMS reaches without any token: the launch protocol itself (its
 * own checks: a registered LMS, a signed launch, a state bound to the browser), our key set, the
 * pages' script, the registration link (signed by this server) and the picker's answer (signed too).
 */
const LTI_OPEN_ROUTES = new Set([
  'GET /lti/login',
  'POST /lti/login',
  'POST /lti/launch',
  'POST /lti/launch/confirm',
  'GET /lti/jwks',
  'GET /lti/assets/lti.js',
  'GET /lti/register',
  'POST /lti/deep-link',
])

describe('authorization sweep: LTI administration (PGlite)', () => {
  let s: TestServer
  before(async () => {
    s = await startTestServer('pglite')
  })
  after(() => s.stop())

  it('every /v1/lti route is the host’s alone; the open /lti routes are exactly the protocol’s', async () => {
    const all = s.app.routes.filter((r) => r.method !== 'ALL')
    const open = [...new Set(all.filter((r) => r.path.startsWith('/lti/')).map((r) => `${r.method} ${r.path}`))].sort()
    assert.deepEqual(open, [...LTI_OPEN_ROUTES].sort(), 'a new /lti route is a decision: add it here, or put it under /v1/lti behind the API key')
    const admin = [...new Set(all.filter((r) => r.path.startsWith('/v1/lti')).map((r) => `${r.method} ${r.path}`))]
    assert.ok(admin.length >= 6, `the platform routes are there: ${admin.join(', ')}`)
    const callers = [
      { label: 'nobody', token: undefined },
      { label: 'a wrong key', token: 'not-the-key' },
      { label: 'an instructor’s room token', token: await mintToken({ sub: 'ins', name: 'Ins', role: 'instructor', sid: 'any' }, TEST_SECRET, { ttl: '1h' }) },
      { label: 'an instructor’s assignment token', token: await mintToken({ sub: 'ins', name: 'Ins', role: 'instructor', assignment: 'any' }, TEST_SECRET, { ttl: '1h' }) },
    ]
    let cases = 0
    for (const key of admin) {
      const [method, pattern] = key.split(' ') as [string, string]
      const path = pattern.replace(':id', 'p0000000000')
      for (const who of callers) {
        const res = await s.api(method, path, who.token, method === 'GET' || method === 'DELETE' ? undefined : {})
        assert.equal(res.status, 401, `${key} by ${who.label} → ${res.status} ${JSON.stringify(res.json?.error ?? '')}`)
        cases++
      }
      const host = await s.api(method, path, TEST_API_KEY, method === 'GET' || method === 'DELETE' ? undefined : {})
      assert.ok(host.status !== 401 && host.status !== 403, `${key} by the host → ${host.status}`)
    }
    console.log(`authorization sweep: ${admin.length} LTI administration routes × ${callers.length + 1} kinds of caller = ${cases + admin.length} cases`)
  })
})

describe('authorization sweep: webhooks (PGlite)', () => {
  let s: TestServer
  before(async () => {
    s = await startTestServer('pglite')
  })
  after(() => s.stop())

  it('every /v1/webhooks route is the host’s alone: no room or assignment token registers, lists or deletes an endpoint', async () => {
    const routes = [...new Set(s.app.routes.filter((r) => r.method !== 'ALL' && r.path.startsWith('/v1/webhooks')).map((r) => `${r.method} ${r.path}`))]
    assert.deepEqual(routes.sort(), ['DELETE /v1/webhooks/:id', 'GET /v1/webhooks', 'POST /v1/webhooks'])
    const callers = [
      { label: 'nobody', token: undefined },
      { label: 'a wrong key', token: 'not-the-key' },
      { label: 'an instructor’s room token', token: await mintToken({ sub: 'ins', name: 'Ins', role: 'instructor', sid: 'any' }, TEST_SECRET, { ttl: '1h' }) },
      { label: 'an instructor’s assignment token', token: await mintToken({ sub: 'ins', name: 'Ins', role: 'instructor', assignment: 'any' }, TEST_SECRET, { ttl: '1h' }) },
    ]
    for (const key of routes) {
      const [method, pattern] = key.split(' ') as [string, string]
      const path = pattern.replace(':id', 'wh_0000000000000000')
      // A body the host could send: what is refused is the caller, not the request.
      const body = method === 'POST' ? { url: 'https://93.184.215.14/hook' } : undefined
      for (const who of callers) {
        const res = await s.api(method, path, who.token, body)
        assert.equal(res.status, 401, `${key} by ${who.label} → ${res.status} ${JSON.stringify(res.json?.error ?? '')}`)
      }
      const host = await s.api(method, path, TEST_API_KEY, body)
      assert.ok(host.status !== 401 && host.status !== 403, `${key} by the host → ${host.status}`)
    }
    const [kept] = await s.db.sql<{ n: number }[]>`select count(*)::int as n from webhook_endpoints`
    assert.equal(kept!.n, 1, 'only the host’s registration was kept')
  })
})

describe('authorization sweep: erasure, export and retention (PGlite)', () => {
  let s: TestServer
  before(async () => {
    s = await startTestServer('pglite')
  })
  after(() => s.stop())

  it('erasing or exporting a person and reading the retention job are the host’s alone: no room or assignment token does any', async () => {
    const routes = [...new Set(s.app.routes.filter((r) => r.method !== 'ALL' && (r.path.startsWith('/v1/users') || r.path === '/v1/retention')).map((r) => `${r.method} ${r.path}`))]
    assert.deepEqual(routes.sort(), ['DELETE /v1/users/:userId', 'GET /v1/retention', 'GET /v1/users/:userId/export'])
    assert.equal((await s.api('POST', '/v1/sessions', TEST_API_KEY, { id: 'authz-erase', title: 'Erase', ownerId: 'owner' })).status, 201)
    const victim = await s.token('authz-erase', 'learner', 'victim', { name: 'Vic' })
    const inRoom = await RawClient.connect(s.url, 'authz-erase', victim)
    assert.ok(inRoom.welcome)
    inRoom.close()
    await inRoom.waitClosed()
    const callers = [
      { label: 'nobody', token: undefined },
      { label: 'a wrong key', token: 'not-the-key' },
      { label: 'the owner’s room token', token: await s.token('authz-erase', 'instructor', 'owner') },
      { label: 'the person’s own room token', token: victim },
      { label: 'an instructor’s assignment token', token: await mintToken({ sub: 'ins', name: 'Ins', role: 'instructor', assignment: 'any' }, TEST_SECRET, { ttl: '1h' }) },
    ]
    for (const key of routes) {
      const [method, pattern] = key.split(' ') as [string, string]
      const path = pattern.replace(':userId', 'victim')
      for (const who of callers) {
        const res = await s.api(method, path, who.token)
        assert.equal(res.status, 401, `${key} by ${who.label} → ${res.status} ${JSON.stringify(res.json?.error ?? '')}`)
      }
    }
    const [still] = await s.db.sql<{ n: number }[]>`select count(*)::int as n from participants where user_id = 'victim'`
    assert.equal(still!.n, 1, 'nothing was erased')
    for (const key of routes) {
      const [method, pattern] = key.split(' ') as [string, string]
      const host = await s.api(method, pattern.replace(':userId', 'victim'), TEST_API_KEY)
      assert.equal(host.status, 200, `${key} by the host → ${host.status}`)
    }
  })
})
