import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { can, effectiveRole, mayActOn, Permission, whyNot, permissionsFor, PERMISSIONS, Rule, RULES, type PermissionContext, type Role } from './index.js'

// DESIGN.md's table, transcribed by hand (Y = yes, N = no, O = owner only, C = conditional).
const TABLE: Record<Permission, Record<Role, 'Y' | 'N' | 'O'>> = {
  VIEW_CODE: { instructor: 'Y', learner: 'Y', observer: 'Y' },
  EDIT_CODE: { instructor: 'Y', learner: 'Y', observer: 'N' },
  EXECUTE_CODE: { instructor: 'Y', learner: 'Y', observer: 'N' },
  CREATE_SNAPSHOT: { instructor: 'Y', learner: 'Y', observer: 'N' },
  RESTORE_SNAPSHOT: { instructor: 'Y', learner: 'N', observer: 'N' },
  INVITE_PARTICIPANTS: { instructor: 'Y', learner: 'N', observer: 'N' },
  REMOVE_PARTICIPANTS: { instructor: 'Y', learner: 'N', observer: 'N' },
  MUTE_PARTICIPANT: { instructor: 'Y', learner: 'N', observer: 'N' },
  KICK_PARTICIPANT: { instructor: 'Y', learner: 'N', observer: 'N' },
  MODERATE_CHAT: { instructor: 'Y', learner: 'N', observer: 'N' },
  CREATE_RECORDING: { instructor: 'Y', learner: 'N', observer: 'N' },
  MANAGE_RECORDINGS: { instructor: 'Y', learner: 'N', observer: 'N' },
  VIEW_ANALYTICS: { instructor: 'Y', learner: 'N', observer: 'N' },
  EXPORT_DATA: { instructor: 'Y', learner: 'N', observer: 'N' },
  MANAGE_SESSION: { instructor: 'O', learner: 'N', observer: 'N' },
}
const ROLES: Role[] = ['instructor', 'learner', 'observer']

describe('the role → permission matrix', () => {
  it('has exactly the fifteen permissions of the design', () => {
    assert.deepEqual([...PERMISSIONS].sort(), Object.keys(TABLE).sort())
    assert.equal(PERMISSIONS.length, 15)
  })
  for (const permission of PERMISSIONS) {
    for (const role of ROLES) {
      for (const owner of [false, true]) {
        const cell = TABLE[permission][role]
        const expected = cell === 'Y' || (cell === 'O' && owner && role === 'instructor')
        it(`${role}${owner ? ' (owner)' : ''} ${expected ? 'has' : 'lacks'} ${permission}`, () => {
          assert.equal(can({ role, owner }, permission), expected)
          assert.equal(permissionsFor({ role, owner }).includes(permission), expected)
        })
      }
    }
  }
})

describe('modifiers', () => {
  it('a muted learner cannot edit or run but can still view and snapshot', () => {
    const ctx: PermissionContext = { role: 'learner', muted: true }
    assert.equal(can(ctx, Permission.EDIT_CODE), false)
    assert.equal(can(ctx, Permission.EXECUTE_CODE), false)
    assert.equal(can(ctx, Rule.POST_CHAT), false)
    assert.equal(can(ctx, Permission.VIEW_CODE), true)
    assert.equal(can(ctx, Permission.CREATE_SNAPSHOT), true)
    assert.equal(whyNot(ctx, Permission.EDIT_CODE)?.code, 'muted')
  })
  it('a locked room stops learners editing, not running, and never stops instructors', () => {
    assert.equal(can({ role: 'learner', editingLocked: true }, Permission.EDIT_CODE), false)
    assert.equal(can({ role: 'learner', editingLocked: true }, Permission.EXECUTE_CODE), true)
    assert.equal(whyNot({ role: 'learner', editingLocked: true }, Permission.EDIT_CODE)?.code, 'locked')
    assert.equal(can({ role: 'instructor', editingLocked: true }, Permission.EDIT_CODE), true)
  })
  it('a muted instructor who is not the owner loses editing; the owner cannot be muted', () => {
    assert.equal(can({ role: 'instructor', muted: true }, Permission.EDIT_CODE), false)
    assert.equal(can({ role: 'instructor', muted: true, owner: true }, Permission.EDIT_CODE), true)
    assert.equal(can({ role: 'instructor', muted: true, owner: true }, Rule.POST_CHAT), true)
  })
  it('ownership grants MANAGE_SESSION only to an instructor', () => {
    assert.equal(can({ role: 'instructor', owner: true }, Permission.MANAGE_SESSION), true)
    assert.equal(can({ role: 'learner', owner: true }, Permission.MANAGE_SESSION), false)
  })
  it('a role override wins over the token role', () => {
    assert.equal(effectiveRole('learner', 'observer'), 'observer')
    assert.equal(effectiveRole('observer', 'learner'), 'learner')
    assert.equal(effectiveRole('learner', null), 'learner')
    assert.equal(can({ role: effectiveRole('learner', 'observer') }, Permission.EDIT_CODE), false)
    assert.equal(can({ role: effectiveRole('observer', 'instructor') }, Permission.KICK_PARTICIPANT), true)
    assert.equal(whyNot({ role: 'observer' }, Permission.EDIT_CODE)?.code, 'observer')
    assert.equal(whyNot({ role: 'learner' }, Permission.EDIT_CODE), null)
  })
})

describe('rules beyond the fifteen permissions', () => {
  // Expected outcomes per role for a participant who is not muted, and who is muted.
  const RULE_TABLE: Record<Rule, Record<Role, [boolean, boolean]>> = {
    POST_CHAT: { instructor: [true, false], learner: [true, false], observer: [false, false] },
    VIEW_OWN_ACTIVITY: { instructor: [true, true], learner: [true, true], observer: [true, true] },
    MANAGE_FILES: { instructor: [true, false], learner: [false, false], observer: [false, false] },
    DELETE_SNAPSHOT: { instructor: [true, true], learner: [false, false], observer: [false, false] },
    // The owner's alone: an instructor who does not own the session may not.
    MANAGE_INSTRUCTORS: { instructor: [false, false], learner: [false, false], observer: [false, false] },
    LEAD_LECTURE: { instructor: [true, true], learner: [false, false], observer: [false, false] },
    // A muted learner still raises a hand: it is how they ask to be heard.
    RAISE_HAND: { instructor: [true, true], learner: [true, true], observer: [true, true] },
  }
  it('covers every rule', () => assert.deepEqual([...RULES].sort(), Object.keys(RULE_TABLE).sort()))
  for (const rule of RULES) {
    for (const role of ROLES) {
      for (const muted of [false, true]) {
        const expected = RULE_TABLE[rule][role][muted ? 1 : 0]
        it(`${role}${muted ? ' (muted)' : ''} ${expected ? 'may' : 'may not'} ${rule} (someone else's resource)`, () => {
          assert.equal(can({ role, muted, userId: 'me' }, rule, { createdBy: 'someone-else' }), expected)
        })
      }
    }
  }
  it('only the owner manages instructors, and nobody acts on the owner but to let them hide', () => {
    const owner = { role: 'instructor', userId: 'own', owner: true } as const
    const other = { role: 'instructor', userId: 'ins2' } as const
    const ownerTarget = { userId: 'own', role: 'instructor', owner: true } as const
    const instructor = { userId: 'ins2', role: 'instructor', owner: false } as const
    const learner = { userId: 'lea', role: 'learner', owner: false } as const
    assert.equal(can(owner, Rule.MANAGE_INSTRUCTORS), true)
    for (const action of ['mute', 'remove', 'hide', 'change-role'] as const) {
      assert.equal(mayActOn(owner, instructor, action), true, `the owner may ${action} an instructor`)
      assert.equal(mayActOn(other, instructor, action), false, `another instructor may not ${action} an instructor`)
      assert.equal(mayActOn(other, learner, action), true, `any instructor may ${action} a learner`)
      assert.equal(mayActOn(other, ownerTarget, action), false, `nobody else may ${action} the owner`)
    }
    assert.equal(mayActOn(other, learner, 'change-role', 'instructor'), false, 'only the owner makes someone an instructor')
    assert.equal(mayActOn(owner, learner, 'change-role', 'instructor'), true)
    assert.equal(mayActOn(owner, ownerTarget, 'hide'), true, 'the owner may hide themselves')
    assert.equal(mayActOn(owner, ownerTarget, 'change-role', 'learner'), false, 'the owner cannot demote themselves')
  })

  it('anyone who created a snapshot may delete it', () => {
    assert.equal(can({ role: 'learner', userId: 'me' }, Rule.DELETE_SNAPSHOT, { createdBy: 'me' }), true)
    assert.equal(can({ role: 'learner', userId: 'me' }, Rule.DELETE_SNAPSHOT), false)
  })
})
