import { can, CloseCode, maySeeSnapshot, Permission, permissionsFor, Role, type PresenceInfo, type ServerEvent, type SnapshotEvent } from '@session-kit/core'
import { callerContext } from '../auth/caller.js'
import type { Sql } from '../store/db.js'
import { getChat, type ChatRow } from '../store/chat.js'
import { latestConsents } from '../store/consents.js'
import { getRun, type RunRow } from '../store/events.js'
import { getParticipant } from '../store/participants.js'
import { getSession } from '../store/sessions.js'
import { getSnapshot, snapshotInfo, type SnapshotRow } from '../store/snapshots.js'
import { chatMessage, runInfo } from './activity.js'
import { lectureChanged, lectureView } from './lecture.js'
import type { BusMessage } from './bus.js'
import type { Peer } from './peer.js'
import type { Room } from './room.js'

/** What this instance already has in hand for an event it made itself (the stored row), so it is not read back. */
export interface LocalRows {
  chat?: ChatRow
  run?: RunRow
  snapshot?: SnapshotRow
}

/**
 * Something happened to a room (a permission change, a chat message, someone arriving on another
 * instance): apply it to this instance's open connections. One way, whether the event was made
 * here or came over the bus (the hub handles changes to the document itself, `chunk`).
 */
export async function applyToRoom(sql: Sql, room: Room, msg: Exclude<BusMessage, { t: 'chunk' }>, local?: LocalRows): Promise<void> {
  switch (msg.t) {
    case 'participant':
      return participantChanged(sql, room, msg.userId, msg.reason)
    case 'session': {
      const session = await getSession(sql, msg.sid)
      if (!session) return
      // Asked from now on: each person hears their own standing choice with the new settings (most have none yet).
      if (session.recordingPolicy === 'consent' && room.session.recordingPolicy !== 'consent') await readConsents(sql, room)
      room.session = session
      for (const peer of [...room.peers]) updatePermissions(room, peer, msg.reason)
      return
    }
    case 'kick':
      for (const peer of [...room.peers]) {
        if (peer.userId !== msg.userId) continue
        const message = msg.by ?? 'You were removed from this session.'
        peer.send({ type: 'error', code: 'removed', message })
        peer.close(CloseCode.Removed, message)
      }
      return
    case 'chat': {
      const row = local?.chat ?? (await getChat(sql, msg.sid, msg.id))
      if (row && !('deleted' in row && row.deleted)) broadcast(room, { type: 'chat', message: chatMessage(row) })
      return
    }
    case 'chat-deleted':
      return broadcast(room, { type: 'chat-deleted', id: msg.id })
    case 'invitation':
      return broadcast(room, { type: 'invitation', id: msg.id, status: msg.status }, (p) => can(p.ctx, Permission.INVITE_PARTICIPANTS))
    case 'snapshot': {
      const row = msg.change === 'created' ? (local?.snapshot ?? (await getSnapshot(sql, msg.sid, msg.id))) : undefined
      if (msg.change === 'created' && !row) return
      const event: SnapshotEvent = { type: 'snapshot', change: msg.change, id: msg.id, title: msg.title, by: msg.by, ...(row ? { snapshot: snapshotInfo(row) } : {}) }
      return broadcast(room, event, (p) => maySeeSnapshot(p.ctx, msg))
    }
    case 'recording': {
      const id = msg.state === 'off' ? null : (msg.id ?? room.recording?.id ?? null)
      if (id !== room.recording?.id) room.told = new Set()
      room.recordingState = msg.state
      room.recording = id ? { id, policy: msg.policy !== undefined ? msg.policy : (room.recording?.policy ?? null) } : null
      // A recording under `consent` that started while the session's policy is `notice` (a race of the two).
      if (room.recording?.policy === 'consent' && room.session.recordingPolicy !== 'consent') await readConsents(sql, room)
      for (const peer of room.peers) peer.send({ type: 'session', session: room.sessionInfo(peer.userId), reason: msg.reason })
      return
    }
    case 'consent':
      room.consents.set(msg.userId, msg.consent)
      // Their own connections see their choice (a `session` event without a reason: nothing to announce).
      return broadcast(room, { type: 'session', session: room.sessionInfo(msg.userId) }, (p) => p.userId === msg.userId)
    case 'lecture':
      return lectureChanged(sql, room, msg.change)
    case 'run': {
      const row = local?.run ?? (await getRun(sql, msg.sid, msg.id))
      if (row) broadcast(room, { type: 'run', run: runInfo(row) })
      return
    }
    case 'presence': {
      // People new to this room are announced at once; cursor moves wait for the next tick.
      for (const { p } of msg.ps) if (!isHere(room, p.userId)) announce(room, p, 'joined')
      room.presence.remote(msg.ps)
      return
    }
    case 'left':
      room.remotePresence.delete(msg.conn)
      if (!isHere(room, msg.userId)) broadcast(room, { type: 'left', userId: msg.userId })
      return
  }
}

async function participantChanged(sql: Sql, room: Room, userId: string, reason?: string) {
  const row = await getParticipant(sql, room.id, userId)
  if (!row) return
  let visibilityChanged = false
  let announced = false
  for (const peer of [...room.peers]) {
    if (peer.userId !== userId) continue
    visibilityChanged ||= peer.participant.hidden !== row.hidden
    peer.participant = row
    updatePermissions(room, peer, reason)
    // Everyone sees the new role or mute at once, even if this connection is rejoining.
    if (!announced) announce(room, peer.presence, 'presence', peer)
    announced = true
  }
  if (visibilityChanged) {
    // Learners and observers stop (or start) seeing a participant who was hidden (or shown).
    const here = [...room.peers].find((p) => p.userId === userId && !p.closed)
    broadcast(room, row.hidden ? { type: 'left', userId } : { type: 'joined', participant: here!.presence }, (p) => p.ctx.role !== Role.Instructor && p.userId !== userId)
  }
}

/** Everyone here's standing recording consent, read into the room (they are asked from now on). */
async function readConsents(sql: Sql, room: Room) {
  const users = [...new Set([...room.peers].map((p) => p.userId))]
  const consents = await latestConsents(sql, room.id, users)
  for (const u of users) room.consents.set(u, consents.get(u) ?? null)
}

/** Re-evaluate a peer's permissions after a role, mute, lock or session change, and tell it. */
export function updatePermissions(room: Room, peer: Peer, reason?: string) {
  const hadEdit = can(peer.ctx, Permission.EDIT_CODE)
  const hadRole = peer.ctx.role
  peer.ctx = callerContext(peer.claims, peer.participant, room.session)
  peer.permissions = permissionsFor(peer.ctx)
  peer.send({ type: 'permissions', participant: peer.info, permissions: peer.permissions, session: room.sessionInfo(peer.userId), reason })
  // Instructors see every raised hand, others only their own: a new role sees the queue as it may.
  if (peer.ctx.role !== hadRole) peer.send({ type: 'lecture', lecture: lectureView(room.lecture, peer) })
  if (peer.kind === 'full' && hadEdit && !can(peer.ctx, Permission.EDIT_CODE)) {
    // Its replica may hold changes we will now refuse. A protocol-2 page that accepts a view
    // becomes one on the same socket; any other rejoins from the server's state.
    const why = reason ?? 'Your permissions changed: you can no longer edit.'
    if (peer.allowView) room.relay.toView(peer, why)
    else peer.close(CloseCode.PermissionsChanged, why)
  }
}

/** Send an event to every peer of a room that `who` allows. */
export function broadcast(room: Room, event: ServerEvent, who: (peer: Peer) => boolean = () => true) {
  for (const peer of room.peers) if (who(peer)) peer.send(event)
}

/** Whether someone is in the room, on this instance or another. */
export function isHere(room: Room, userId: string): boolean {
  for (const p of room.peers) if (p.userId === userId) return true
  for (const p of room.remotePresence.values()) if (p.userId === userId) return true
  return false
}

/** Tell the room about someone (hidden people only to instructors), now: joins and role or mute changes. */
export function announce(room: Room, participant: PresenceInfo, kind: 'presence' | 'joined', except?: Peer) {
  for (const other of room.peers) {
    if (other === except) continue
    if (participant.hidden && other.ctx.role !== Role.Instructor) continue
    other.send(kind === 'joined' ? { type: 'joined', participant } : { type: 'presence', participant })
  }
}
