import { colorFor, Permission, Rule, whyNot, type ChatMessage, type RunInfo, type RunReport } from '@session-kit/core'
import type { Sql } from '../store/db.js'
import { insertChat, type ChatRow } from '../store/chat.js'
import { insertRun, type RunRow } from '../store/events.js'
import { Allowances, CHAT_RATE, RUN_RATE } from './limits.js'
import type { Peer } from './peer.js'
import type { Room } from './room.js'

/**
 * Chat messages and shared runs from the socket: checked (permission, allowance), stored, then
 * announced through `announce` — which tells the room here and the other instances alike.
 */
export class Activity {
  /**
   * Allowances per user, kept with their room so they go when it unloads: by then (30 s without
   * anyone) every bucket has refilled, and one per user ever seen would pile up.
   */
  #chat = new Allowances(CHAT_RATE.rate, CHAT_RATE.burst)
  #runs = new Allowances(RUN_RATE.rate, RUN_RATE.burst)

  constructor(
    private readonly sql: Sql,
    private readonly now: () => Date | null,
    private readonly announce: {
      chat: (room: Room, row: ChatRow) => void
      run: (room: Room, row: RunRow) => void
    },
  ) {}

  async chat(room: Room, peer: Peer, text: string) {
    const refused = whyNot(peer.ctx, Rule.POST_CHAT)
    if (refused) return peer.send({ type: 'error', code: 'forbidden', message: refused.message })
    const bucket = this.#chat.of(room, peer.userId)
    if (!bucket.take()) {
      const retryAfterMs = bucket.waitFor()
      return peer.send({ type: 'rate_limited', what: 'chat', retryAfterMs, message: `You are sending messages too fast; try again in ${Math.ceil(retryAfterMs / 1000)} s.` })
    }
    const row = await insertChat(this.sql, { sessionId: room.id, userId: peer.userId, name: peer.claims.name, role: peer.ctx.role, body: text, at: this.now() })
    this.announce.chat(room, row)
  }

  async run(room: Room, peer: Peer, report: RunReport) {
    const refused = whyNot(peer.ctx, Permission.EXECUTE_CODE)
    if (refused) return peer.send({ type: 'error', code: 'forbidden', permission: Permission.EXECUTE_CODE, message: refused.message })
    const bucket = this.#runs.of(room, peer.userId)
    if (!bucket.take()) {
      const retryAfterMs = bucket.waitFor()
      return peer.send({ type: 'rate_limited', what: 'run', retryAfterMs, message: `Runs are shared at most every two seconds; this one was not shared.` })
    }
    const row = await insertRun(this.sql, room.id, peer.userId, { name: peer.claims.name, ...report, timedOut: report.timedOut ?? false }, this.now())
    this.announce.run(room, row)
  }
}

export function chatMessage(row: ChatRow): ChatMessage {
  return { id: row.id, userId: row.userId, name: row.name, role: row.role, color: colorFor(row.userId), text: row.body, at: row.createdAt.toISOString() }
}

export function runInfo(row: RunRow): RunInfo {
  const { name, file, language, ok, errors, durationMs, timedOut, output, verified, runId, kind, status, tests } = row.data
  const info: RunInfo = { id: row.id, userId: row.userId, name, file, language, ok, errors, durationMs, timedOut, output, at: new Date(row.at).toISOString() }
  // A run the server made itself says so, with its id and outcome; a reported one says only what it
  // reported (a browser's run of tests: its counts).
  return verified ? { ...info, verified, runId, kind, status, ...(tests ? { tests } : {}) } : tests ? { ...info, tests } : info
}
