import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { can, needsPermission, permissionContext, Permission, PERMISSIONS, Rule, RULES, whyNot, type Action, type PermissionContext, type Role } from './index.js'

const ROLES: Role[] = ['instructor', 'learner', 'observer']

describe('whyNot: the reason and the sentence for the person refused', () => {
  const said = (ctx: PermissionContext, action: Action) => whyNot(ctx, action)

  it('is null exactly when can() allows, for every role, state and action', () => {
    for (const role of ROLES) {
      for (const owner of [false, true]) {
        for (const muted of [false, true]) {
          for (const editingLocked of [false, true]) {
            const ctx = { role, owner, muted, editingLocked, userId: 'me' }
            for (const action of [...PERMISSIONS, ...RULES]) {
              const allowed = can(ctx, action, { createdBy: 'someone-else' })
              const why = whyNot(ctx, action, { createdBy: 'someone-else' })
              assert.equal(why === null, allowed, `${JSON.stringify(ctx)} ${action}`)
              if (why) assert.ok(why.message.length > 10, 'a sentence')
            }
          }
        }
      }
    }
  })

  const CASES: [string, PermissionContext, Action, string, string][] = [
    ['an observer editing', { role: 'observer' }, Permission.EDIT_CODE, 'observer', 'You are observing: you can follow the code but not edit it.'],
    ['a muted learner editing', { role: 'learner', muted: true }, Permission.EDIT_CODE, 'muted', 'The instructor muted you: you can read the code but not edit or run it, nor post in the chat, until you are unmuted.'],
    ['a learner in a locked room', { role: 'learner', editingLocked: true }, Permission.EDIT_CODE, 'locked', 'The instructor has locked editing for learners for now.'],
    ['a muted learner in a locked room (the mute says more)', { role: 'learner', muted: true, editingLocked: true }, Permission.EDIT_CODE, 'muted', 'The instructor muted you: you can read the code but not edit or run it, nor post in the chat, until you are unmuted.'],
    ['a muted instructor editing', { role: 'instructor', muted: true }, Permission.EDIT_CODE, 'muted', 'The instructor muted you: you can read the code but not edit or run it, nor post in the chat, until you are unmuted.'],
    ['an observer running', { role: 'observer' }, Permission.EXECUTE_CODE, 'observer', 'Observers can watch the code but not run it.'],
    ['a muted learner running', { role: 'learner', muted: true }, Permission.EXECUTE_CODE, 'muted', 'You are muted by the instructor, so you cannot run code.'],
    ['an observer posting', { role: 'observer' }, Rule.POST_CHAT, 'observer', 'Observers can read the chat but not post.'],
    ['a muted learner posting', { role: 'learner', muted: true }, Rule.POST_CHAT, 'muted', 'You are muted by the instructor, so you can read the chat but not post.'],
    ['a muted instructor posting', { role: 'instructor', muted: true }, Rule.POST_CHAT, 'muted', 'You are muted by the instructor, so you can read the chat but not post.'],
    ['a learner restoring a snapshot', { role: 'learner' }, Permission.RESTORE_SNAPSHOT, 'role', needsPermission(Permission.RESTORE_SNAPSHOT)],
    ['an observer inviting', { role: 'observer' }, Permission.INVITE_PARTICIPANTS, 'observer', needsPermission(Permission.INVITE_PARTICIPANTS)],
    ['an instructor who does not own the session managing it', { role: 'instructor' }, Permission.MANAGE_SESSION, 'role', needsPermission(Permission.MANAGE_SESSION)],
    ['a muted instructor managing files', { role: 'instructor', muted: true }, Rule.MANAGE_FILES, 'muted', needsPermission(Rule.MANAGE_FILES)],
    ['a learner managing files in a locked room (the role, not the lock)', { role: 'learner', editingLocked: true }, Rule.MANAGE_FILES, 'role', needsPermission(Rule.MANAGE_FILES)],
  ]
  for (const [who, ctx, action, code, message] of CASES) {
    it(`${who}: ${code}`, () => assert.deepEqual(said(ctx, action), { code, message }))
  }

  it('the owner is never refused for a mute; a locked room never stops instructors', () => {
    assert.equal(whyNot({ role: 'instructor', owner: true, muted: true }, Permission.EDIT_CODE), null)
    assert.equal(whyNot({ role: 'instructor', owner: true, muted: true }, Rule.POST_CHAT), null)
    assert.equal(whyNot({ role: 'instructor', editingLocked: true }, Permission.EDIT_CODE), null)
  })

  it('a lock stops editing only, never running or posting', () => {
    assert.equal(whyNot({ role: 'learner', editingLocked: true }, Permission.EXECUTE_CODE), null)
    assert.equal(whyNot({ role: 'learner', editingLocked: true }, Rule.POST_CHAT), null)
  })

  it('the role sentence names the permission (what a refused HTTP route says)', () => {
    assert.equal(needsPermission(Permission.EXPORT_DATA), 'This needs the EXPORT_DATA permission, which your role in this session does not have.')
  })
})

describe('permissionContext: who is asking, built one way on both sides', () => {
  it('the server: token role, stored override and mute, ownership from the session', () => {
    assert.deepEqual(permissionContext({ role: 'learner', roleOverride: 'observer', userId: 'lea', muted: true }, { ownerId: 'ins', editingLocked: true }), {
      role: 'observer',
      userId: 'lea',
      owner: false,
      muted: true,
      editingLocked: true,
    })
    assert.deepEqual(permissionContext({ role: 'instructor', roleOverride: null, userId: 'ins' }, { ownerId: 'ins', editingLocked: false }), {
      role: 'instructor',
      userId: 'ins',
      owner: true,
      muted: false,
      editingLocked: false,
    })
  })

  it('a page: the effective role and ownership the server sent', () => {
    const participant = { userId: 'ins2', name: 'Ada', role: 'instructor' as const, color: '#000', owner: true, muted: false, hidden: false }
    assert.deepEqual(permissionContext(participant, { editingLocked: true }), { role: 'instructor', userId: 'ins2', owner: true, muted: false, editingLocked: true })
  })

  it('without a user id nobody is the owner', () => {
    assert.equal(permissionContext({ role: 'instructor' }, { ownerId: 'ins' }).owner, false)
  })

  for (const role of ROLES) {
    for (const muted of [false, true]) {
      for (const editingLocked of [false, true]) {
        for (const override of [undefined, ...ROLES]) {
          it(`${role}${override ? ` made ${override}` : ''}${muted ? ', muted' : ''}${editingLocked ? ', locked' : ''}: the same permissions as the context written out`, () => {
            const ctx = permissionContext({ role, roleOverride: override, userId: 'u', muted }, { ownerId: 'x', editingLocked })
            const written: PermissionContext = { role: override ?? role, userId: 'u', owner: false, muted, editingLocked }
            assert.deepEqual(ctx, written)
            for (const action of [...PERMISSIONS, ...RULES]) assert.equal(can(ctx, action), can(written, action))
          })
        }
      }
    }
  }
})
