import { expect } from '@open-wc/testing'
import type { Permission, PresenceInfo } from '@session-kit/core'
import { RoomClient } from './internal/room-client.js'
import { RoomState } from './room-state.js'

const person = (userId: string, extra: Partial<PresenceInfo> = {}): PresenceInfo => ({
  userId,
  name: userId.toUpperCase(),
  role: 'learner',
  color: '#0f766e',
  owner: false,
  muted: false,
  cursor: null,
  ...extra,
})

function liveClient() {
  const client = new RoomClient({ server: 'http://127.0.0.1:1', session: 's', token: () => undefined, tokenProvider: () => undefined, onChange: () => {} })
  client.status = 'live'
  client.participant = person('me')
  client.permissions = ['VIEW_CODE', 'EDIT_CODE'] as Permission[]
  client.session = { id: 's', title: 'T', language: 'javascript', editingLocked: false, recording: false, recordingState: 'off' }
  for (const p of [person('me'), person('ada')]) client.participants.set(p.userId, p)
  return client
}

describe('RoomState.of', () => {
  it('keeps the same state when only cursors moved or values were rebuilt equal', () => {
    const client = liveClient()
    const first = RoomState.of(client, undefined)
    client.participants.set('ada', person('ada', { cursor: { file: 'main.js', anchor: 3, head: 3 } }))
    client.permissions = ['VIEW_CODE', 'EDIT_CODE'] as Permission[]
    client.session = { ...client.session! }
    client.participant = person('me')
    expect(RoomState.of(client, first)).to.equal(first)
  })

  it('makes a new state when something shown changed, keeping the unchanged parts by reference', () => {
    const client = liveClient()
    const first = RoomState.of(client, undefined)
    client.participants.set('ada', person('ada', { muted: true }))
    const muted = RoomState.of(client, first)
    expect(muted).to.not.equal(first)
    expect(muted.participants).to.not.equal(first.participants)
    expect(muted.participants.find((p) => p.userId === 'ada')?.muted).to.equal(true)
    expect(muted.session).to.equal(first.session)
    expect(muted.permissions).to.equal(first.permissions)

    client.participants.set('grace', person('grace'))
    expect(RoomState.of(client, muted).participants.length).to.equal(3)

    client.session = { ...client.session!, editingLocked: true }
    const locked = RoomState.of(client, muted)
    expect(locked.session?.editingLocked).to.equal(true)

    client.status = 'offline'
    expect(RoomState.of(client, locked).status).to.equal('offline')
  })

  it('reports a page-side error as an error state', () => {
    const client = liveClient()
    const first = RoomState.of(client, undefined)
    const failed = RoomState.of(client, first, { status: 'error', error: { code: 'no_session', message: 'no session' } })
    expect(failed.status).to.equal('error')
    expect(failed.error?.code).to.equal('no_session')
    expect(RoomState.of(client, failed, { status: 'error', error: { code: 'no_session', message: 'no session' } })).to.equal(failed)
  })
})

describe('RoomState.of and lecture mode', () => {
  it('keeps the lecture by reference while it reads the same, and replaces it when it changed', () => {
    const client = liveClient()
    const first = RoomState.of(client, undefined)
    expect(first.lecture).to.deep.equal({ follow: null, spotlight: null, hands: [], handCount: 0 })
    client.lecture = { follow: null, spotlight: null, hands: [], handCount: 0 }
    expect(RoomState.of(client, first)).to.equal(first)
    client.lecture = { follow: { userId: 'ada', name: 'ADA', since: '2030-01-01T00:00:00Z' }, spotlight: null, hands: [], handCount: 0 }
    const led = RoomState.of(client, first)
    expect(led).to.not.equal(first)
    expect(led.lecture.follow?.name).to.equal('ADA')
    expect(led.session).to.equal(first.session)
    client.lecture = JSON.parse(JSON.stringify(client.lecture))
    expect(RoomState.of(client, led)).to.equal(led)
  })
})
