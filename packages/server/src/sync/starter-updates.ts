import type { Sql } from '../store/db.js'
import { listRooms, listUpdates, recordStarterChange, type AssignmentRoomRow } from '../store/assignments.js'
import { SERVER_USER } from '../store/sessions.js'
import type { Hub } from './hub.js'

/** What a changed starter means for one room: its new files, the starter texts it now holds, the offers made and dropped. */
export interface StarterDecision {
  files: Record<string, string>
  starter: Record<string, string>
  offer: Record<string, string>
  drop: string[]
  changed: boolean
}

/**
 * A file the learner left as they got it takes the new starter text (a new starter file is added,
 * a removed one deleted — never the room's last file); one they changed is offered instead, to take
 * with `POST …/updates/accept`. `got` is the starter text the room holds for each file.
 */
export function decideStarter(current: Record<string, string>, got: Record<string, string>, next: Record<string, string>): StarterDecision {
  const files = { ...current }
  const starter = { ...got }
  const offer: Record<string, string> = {}
  const drop: string[] = []
  let changed = false
  for (const name of new Set([...Object.keys(got), ...Object.keys(next)])) {
    const was = got[name]
    const now = next[name]
    if (now === undefined) {
      delete starter[name]
      drop.push(name)
      if (files[name] === was && Object.keys(files).length > 1) {
        delete files[name]
        changed = true
      }
    } else if (now === was) {
      drop.push(name)
    } else if (files[name] === was) {
      files[name] = now
      starter[name] = now
      drop.push(name)
      changed = true
    } else {
      offer[name] = now
    }
  }
  return { files, starter, offer, drop, changed }
}

/**
 * An assignment's starter files (with the visible tests) changed: push the change into each
 * learner's room where it applies cleanly, offer it where they changed the file. Server-made
 * changes go through `room.setFiles`, as the file routes' do. A room that cannot take it (a limit)
 * is offered every change instead.
 */
export async function pushStarter(deps: { db: { sql: Sql }; hub: Hub; log: (msg: string) => void }, assignmentId: string, next: Record<string, string>): Promise<void> {
  const sql = deps.db.sql
  for (const room of await listRooms(sql, assignmentId)) {
    try {
      await pushInto(sql, deps.hub, room, next)
    } catch (e) {
      deps.log(`assignment ${assignmentId}: could not update ${room.sessionId} (${(e as Error).message}); offering the change instead`)
      const text = await deps.hub.documentText(room.sessionId)
      const offer = Object.fromEntries(Object.entries(next).filter(([name, t]) => text?.files[name] !== t && room.starter[name] !== t))
      await recordStarterChange(sql, assignmentId, room.userId, { starter: room.starter, offer, drop: [] })
    }
  }
}

async function pushInto(sql: Sql, hub: Hub, room: AssignmentRoomRow, next: Record<string, string>) {
  const stored = await hub.documentText(room.sessionId)
  if (!stored) return
  let decision = decideStarter(stored.files, room.starter, next)
  if (decision.changed) {
    const open = await hub.room(room.sessionId)
    if (!open) return
    // Decide again on the text the room holds now (a learner may have typed meanwhile).
    decision = decideStarter(open.currentText().files, room.starter, next)
    if (decision.changed) await open.setFiles(decision.files, SERVER_USER)
  }
  await recordStarterChange(sql, room.assignmentId, room.userId, decision)
}

/** A learner's pending offers, with their own text beside each. */
export async function pendingUpdates(sql: Sql, hub: Hub, room: AssignmentRoomRow) {
  const [offers, text] = await Promise.all([listUpdates(sql, room.assignmentId, room.userId), hub.documentText(room.sessionId)])
  return offers.map((o) => ({ file: o.file, yours: text?.files[o.file] ?? null, starter: o.text, offeredAt: o.offeredAt.toISOString() }))
}
