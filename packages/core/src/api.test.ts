import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  AnalyticsResponseSchema,
  BulkInvitationSchema,
  InvitationListSchema,
  OwnActivitySchema,
  parseApi,
  ParticipantListSchema,
  RecordingListSchema,
  SessionViewSchema,
  SnapshotListSchema,
} from './api.js'
import { computeAnalytics, errorBodyMessage } from './index.js'

/** Bodies as the server sends them (copied from its answers). */
const participant = {
  userId: 'lea',
  name: 'Grace',
  role: 'learner',
  tokenRole: 'learner',
  color: '#1f6f9c',
  avatar: null,
  owner: false,
  online: true,
  lastSeenAt: '2025-03-01T09:30:00.000Z',
  muted: false,
  hidden: false,
  banned: false,
}
const invitation = {
  id: '0b6f7c1e-5a4d-4d8e-9a57-3f1c2b9d8e01',
  email: 'grace@example.edu',
  name: null,
  role: 'learner',
  status: 'pending',
  inviterName: 'Ada Lovelace',
  createdAt: '2025-03-01T09:30:00.000Z',
  expiresAt: '2025-03-04T09:30:00.000Z',
  sentAt: '2025-03-01T09:30:00.000Z',
  respondedAt: null,
}
const recording = {
  id: 'f3b0c9a2-1d44-4f7e-8c11-0a9e5d2b7c33',
  title: 'Loops lesson',
  description: 'for and while',
  isPublic: false,
  status: 'paused',
  createdBy: 'ins',
  creatorName: 'Ada',
  startedAt: '2025-03-01T09:30:00.000Z',
  stoppedAt: null,
  durationSeconds: 42,
  durationMs: 41_870,
  spans: [{ from: '2025-03-01T09:30:00.000Z', to: '2025-03-01T09:30:41.870Z' }],
  error: null,
  policy: 'consent',
  consented: [{ userId: 'ins', name: 'Ada' }],
}

/** The sentence a malformed body is refused with. */
function refusal(run: () => unknown): string {
  try {
    run()
  } catch (e) {
    return (e as Error).message
  }
  assert.fail('the body was accepted')
}

describe('response schemas', () => {
  it('accept what the server sends, typed', () => {
    const list = parseApi(ParticipantListSchema, { participants: [participant] })
    assert.deepEqual(list, { participants: [participant] })
    assert.equal(parseApi(InvitationListSchema, { invitations: [invitation] }).invitations[0]!.status, 'pending')
    assert.equal(parseApi(RecordingListSchema, { recordings: [recording] }).recordings[0]!.spans[0]!.to, '2025-03-01T09:30:41.870Z')
    const snapshot = { id: 's1', title: 'First', description: null, createdBy: 'ins', creatorName: 'Ada', creatorRole: 'instructor', createdAt: '2025-03-01T09:30:00.000Z', heads: ['ab12'], fileNames: ['main.js'] }
    assert.deepEqual(parseApi(SnapshotListSchema, { snapshots: [snapshot] }).snapshots, [snapshot])
    const bulk = { results: [{ email: 'grace@example.edu', result: 'created', invitation: { ...invitation, link: 'https://lms.example.edu/?invite=abc' } }, { email: 'nope', result: 'invalid', message: 'not a valid email address' }] }
    assert.deepEqual(parseApi(BulkInvitationSchema, bulk), bulk)
  })

  it('accept what the analytics formulas produce', () => {
    const end = Date.UTC(2025, 2, 1, 10)
    const facts = {
      range: '1h' as const,
      end,
      sessionStart: end - 30 * 60_000,
      participants: [{ userId: 'lea', name: 'Grace', role: 'learner' as const, joinSeq: 1, codeChanges: 3, charsInserted: 20, charsDeleted: 2, executions: 1, chatMessages: 0, activeMinutes: 2, connections: [[end - 20 * 60_000, end] as const], online: true, lastActivityAt: end - 60_000, connectedSince: end - 20 * 60_000, recentRuns: [true] }],
      minutes: [{ minute: end - 60_000, codeChanges: 3, executions: 1, activeParticipants: 1 }],
      activeParticipants: 1,
      serverChanges: 0,
    }
    const res = computeAnalytics(facts)
    assert.deepEqual(parseApi(AnalyticsResponseSchema, JSON.parse(JSON.stringify(res))), res)
    const { engagementScore: _, recentRuns: __, online: ___, connectedSince: ____, ...own } = res.participants[0]!
    assert.equal(parseApi(OwnActivitySchema, { range: res.range, from: res.from, to: res.to, ...own }).codeChanges, 3)
  })

  it('refuse a wrong type with a sentence naming the field', () => {
    const message = refusal(() => parseApi(ParticipantListSchema, { participants: [participant, { ...participant, lastSeenAt: 5 }] }))
    assert.match(message, /^The server's answer does not have the shape this version of Session Kit expects: participants\[1\]\.lastSeenAt: /)
  })

  it('refuse a missing field, an unknown role or status, and a time that is not one', () => {
    const { banned: _, ...noBanned } = participant
    assert.match(refusal(() => parseApi(ParticipantListSchema, { participants: [noBanned] })), /participants\[0\]\.banned: /)
    assert.match(refusal(() => parseApi(ParticipantListSchema, { participants: [{ ...participant, role: 'admin' }] })), /participants\[0\]\.role: role must be one of instructor, learner, observer\.$/)
    assert.match(refusal(() => parseApi(InvitationListSchema, { invitations: [{ ...invitation, status: 'lost' }] })), /invitations\[0\]\.status: status must be one of pending, accepted, declined, expired, revoked/)
    assert.match(refusal(() => parseApi(RecordingListSchema, { recordings: [{ ...recording, startedAt: 'yesterday' }] })), /recordings\[0\]\.startedAt: a time is an ISO 8601 timestamp/)
    assert.match(refusal(() => parseApi(SessionViewSchema, { id: 'x' })), /: title: /)
  })

  it('refuse a body that is not the object at all', () => {
    assert.match(refusal(() => parseApi(ParticipantListSchema, null)), /expects: Invalid type: Expected Object but received null\.$/)
    assert.match(refusal(() => parseApi(ParticipantListSchema, { participants: {} })), /participants: /)
  })

  it('let a newer server add fields an older page does not know (they are left out)', () => {
    const list = parseApi(ParticipantListSchema, { participants: [{ ...participant, pronouns: 'she/her' }], total: 1 })
    assert.deepEqual(list, { participants: [participant] })
  })

  it('read the sentence of an error body', () => {
    assert.equal(errorBodyMessage({ error: { code: 'forbidden', message: 'Only instructors can do that.', permission: 'MANAGE_SESSION' } }), 'Only instructors can do that.')
    assert.equal(errorBodyMessage({ error: 'nope' }), undefined)
    assert.equal(errorBodyMessage(null), undefined)
  })
})
