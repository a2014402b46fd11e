import { effectiveRole, Role, Rule, whyNot, type LectureChange, type LectureState } from '@session-kit/core'
import { recordAction, roomActor } from '../audit/record.js'
import type { Sql } from '../store/db.js'
import { lowerAllHands, lowerHand, raiseHand, readLecture, setFollow, setSpotlight, type LectureRecord } from '../store/lecture.js'
import { roomOfSession } from '../store/assignments.js'
import { getParticipant, isBanned } from '../store/participants.js'
import { Allowances, HAND_RATE } from './limits.js'
import type { Peer } from './peer.js'
import type { Room } from './room.js'

/** The `hand` event as the schema read it. */
export interface HandEvent {
  raised: boolean
  question?: string
  userId?: string
  all?: boolean
}

/**
 * Lecture mode from the socket — follow me, raised hands, the spotlight: checked (core's rules, the
 * hand allowance), stored with its analytics event, then announced through `announce`, which
 * tells the room here and on the other instances alike (each re-reads the small state; see
 * `lectureChanged`).
 */
export class Lecture {
  /** Hands raised per user, kept with their room (see Activity). */
  #hands = new Allowances(HAND_RATE.rate, HAND_RATE.burst)

  constructor(
    private readonly sql: Sql,
    private readonly now: () => Date | null,
    private readonly announce: (sid: string, change?: LectureChange) => Promise<void>,
  ) {}

  async follow(room: Room, peer: Peer, on: boolean) {
    if (refused(peer, Rule.LEAD_LECTURE)) return
    const change = await setFollow(this.sql, room.id, on ? { userId: peer.userId, name: peer.claims.name } : null, this.now())
    await this.#announceOrRepeat(room, peer, change)
  }

  async hand(room: Room, peer: Peer, e: HandEvent) {
    const target = e.userId ?? peer.userId
    if (e.raised && (e.all || target !== peer.userId)) {
      return peer.send({ type: 'error', code: 'malformed', message: 'A hand is raised by its owner only: send {"type":"hand","raised":true} without a userId or all.' })
    }
    if (e.all || target !== peer.userId) {
      if (refused(peer, Rule.LEAD_LECTURE)) return
      const change = e.all
        ? await lowerAllHands(this.sql, room.id, { userId: peer.userId, name: peer.claims.name }, this.now())
        : await lowerHand(this.sql, room.id, target, peer.claims.name, this.now())
      // An instructor acting on others' hands is on the record (a hand that was not up: nothing happened).
      if (change) await recordAction(this.sql, { action: e.all ? 'lecture.hands_cleared' : 'lecture.hand_lowered', actor: roomActor(peer), origin: peer.origin, sessionId: room.id, targetId: e.all ? null : target })
      return this.#announceOrRepeat(room, peer, change)
    }
    if (refused(peer, Rule.RAISE_HAND)) return
    if (!e.raised) return this.#announceOrRepeat(room, peer, await lowerHand(this.sql, room.id, peer.userId, undefined, this.now()))
    const bucket = this.#hands.of(room, peer.userId)
    if (!bucket.take()) {
      const retryAfterMs = bucket.waitFor()
      return peer.send({ type: 'rate_limited', what: 'hand', retryAfterMs, message: `You raised your hand too often; try again in ${Math.ceil(retryAfterMs / 1000)} s.` })
    }
    const fresh = await raiseHand(this.sql, { sessionId: room.id, userId: peer.userId, name: peer.claims.name, question: e.question ?? '', at: this.now() })
    // A hand already up keeps its place; only its question changed, which is no news to announce.
    await this.announce(room.id, fresh ? { kind: 'hand-raised', userId: peer.userId, name: peer.claims.name } : undefined)
  }

  async spotlight(room: Room, peer: Peer, userId: string | null, sessionId?: string) {
    if (refused(peer, Rule.LEAD_LECTURE)) return
    let target: { userId: string; name: string; by: string; sessionId?: string } | null = null
    if (sessionId !== undefined) {
      const learnerRoom = sessionId === room.id ? undefined : await roomOfSession(this.sql, sessionId)
      if (!learnerRoom) return peer.send({ type: 'error', code: 'not_found', message: 'No learner’s assignment room has that session id, so there is no room to spotlight.' })
      const instructs = peer.userId === learnerRoom.ownerId || (peer.claims.role === Role.Instructor && peer.claims.assignment === learnerRoom.assignmentId)
      if (!instructs) {
        return peer.send({ type: 'error', code: 'forbidden', message: 'Only an instructor of that room’s assignment can spotlight it: use a token for this session that also names the assignment.' })
      }
      target = { userId: learnerRoom.userId, name: learnerRoom.name, by: peer.claims.name, sessionId }
    } else if (userId !== null) {
      const [row, banned] = await Promise.all([getParticipant(this.sql, room.id, userId), isBanned(this.sql, room.id, userId)])
      if (!row) return peer.send({ type: 'error', code: 'participant_not_found', message: 'Nobody with that user id has joined this session, so there is no code of theirs to spotlight.' })
      if (banned) return peer.send({ type: 'error', code: 'participant_removed', message: `${row.name} was removed from this session and cannot be spotlighted.` })
      if (row.hidden) return peer.send({ type: 'error', code: 'participant_hidden', message: `${row.name} is hidden from learners and observers; make them visible before spotlighting them.` })
      target = { userId, name: row.name, by: peer.claims.name }
    }
    const change = await setSpotlight(this.sql, room.id, target, this.now())
    // Showing someone's code to the whole room is on the record.
    if (change && target) {
      await recordAction(this.sql, { action: 'lecture.spotlight_started', actor: roomActor(peer), origin: peer.origin, sessionId: room.id, targetId: target.userId, details: target.sessionId ? { roomSessionId: target.sessionId } : {} })
    }
    await this.#announceOrRepeat(room, peer, change)
  }

  /**
   * Someone's role, visibility or place in the session changed (`removed`: kicked): a leader who
   * is no longer an instructor stops leading, a spotlit participant who was hidden or removed
   * leaves the spotlight, and a removed participant's hand comes down. `role` is their role now
   * when a fresh token changed it.
   */
  async participantChanged(sid: string, userId: string, opts: { removed?: boolean; role?: Role } = {}) {
    const lecture = await readLecture(this.sql, sid)
    const leads = lecture.follow?.userId === userId
    // A spotlit assignment room's learner is not someone of this room.
    const spotlit = lecture.spotlight?.userId === userId && !lecture.spotlight.sessionId
    const hand = opts.removed && lecture.hands.some((h) => h.userId === userId)
    if (!leads && !spotlit && !hand) return
    const row = await getParticipant(this.sql, sid, userId)
    const role = opts.role ?? (row ? effectiveRole(row.tokenRole, row.roleOverride) : undefined)
    const changes: (LectureChange | null)[] = []
    if (leads && (opts.removed || role !== Role.Instructor)) changes.push(await setFollow(this.sql, sid, null, this.now(), userId))
    if (spotlit && (opts.removed || !row || row.hidden)) changes.push(await setSpotlight(this.sql, sid, null, this.now(), userId))
    if (hand) changes.push(await lowerHand(this.sql, sid, userId, undefined, this.now()))
    for (const change of changes) if (change) await this.announce(sid, change)
  }

  /** Announce a change; when nothing changed, tell the sender how things stand (its page may be behind). */
  async #announceOrRepeat(room: Room, peer: Peer, change: LectureChange | null) {
    if (change) return this.announce(room.id, change)
    peer.send({ type: 'lecture', lecture: lectureView(room.lecture, peer) })
  }
}

/** Refuse `peer` with core's sentence when its context does not allow `rule`; true if it was refused. */
function refused(peer: Peer, rule: Rule): boolean {
  const why = whyNot(peer.ctx, rule)
  if (why) peer.send({ type: 'error', code: 'forbidden', message: why.message })
  return why !== null
}

/** The lecture as `peer` may see it: instructors get every hand; anyone else their own, and the count. */
export function lectureView(lecture: LectureRecord, peer: Pick<Peer, 'userId' | 'ctx'>): LectureState {
  const hands = peer.ctx.role === Role.Instructor ? lecture.hands : lecture.hands.filter((h) => h.userId === peer.userId)
  return { follow: lecture.follow, spotlight: lecture.spotlight, hands, handCount: lecture.hands.length }
}

/** Whether `peer` hears of `change` (another person's hand is instructors' business; its count is not). */
function hears(change: LectureChange, peer: Peer): boolean {
  if (change.kind !== 'hand-raised' && change.kind !== 'hand-lowered') return true
  return peer.ctx.role === Role.Instructor || change.userId === peer.userId
}

const reads = new WeakMap<Room, Promise<void>>()

/**
 * The lecture changed (here or on another instance): read it again — it is small — and send each
 * peer the room's lecture as it may see it. Reads of one room run one after another, so the last
 * state sent is the latest stored.
 */
export function lectureChanged(sql: Sql, room: Room, change?: LectureChange): Promise<void> {
  const next = (reads.get(room) ?? Promise.resolve())
    .catch(() => {})
    .then(async () => {
      room.lecture = await readLecture(sql, room.id)
      for (const peer of room.peers) {
        peer.send({ type: 'lecture', lecture: lectureView(room.lecture, peer), ...(change && hears(change, peer) ? { change } : {}) })
      }
    })
  reads.set(room, next)
  return next
}
