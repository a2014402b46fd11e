/**
 * The editor's status and panels, rendered from its state: the badge saying whether you can edit
 * and why, the save state, the banner above the code, "What can I do?" and the unsent edits.
 */
import { html, nothing } from 'lit'
import { Permission, whyNot, type RefusalReason } from '@session-kit/core'
import type { RoomState } from '../room-state.js'
import type { UnsentEdit } from '../text-source.js'

export type Phase = 'loading' | 'plain' | 'live' | 'playground' | 'missing-file'

/** What the status depends on. */
export interface EditorState {
  room: RoomState | undefined
  phase: Phase
  readonly: boolean
  /** Edits sent and not yet acknowledged. */
  pending: number
  /** Whether the text shown is the replica (so edits can be taken), not a light view. */
  showingReplica: boolean
  /** Whether typing in the code is taken now. */
  canEdit: boolean
}

/** What each permission lets a person do, in their words. */
const ABILITIES: [Permission, string][] = [
  [Permission.VIEW_CODE, 'See the code as it is typed'],
  [Permission.EDIT_CODE, 'Edit the code'],
  [Permission.EXECUTE_CODE, 'Run the code'],
  [Permission.CREATE_SNAPSHOT, 'Save snapshots of the code'],
  [Permission.RESTORE_SNAPSHOT, 'Restore a snapshot for everyone'],
  [Permission.INVITE_PARTICIPANTS, 'Invite people'],
  [Permission.MUTE_PARTICIPANT, 'Mute people and lock editing'],
  [Permission.KICK_PARTICIPANT, 'Remove people from the session'],
  [Permission.CREATE_RECORDING, 'Record the session'],
  [Permission.VIEW_ANALYTICS, 'See how the session is going'],
  [Permission.MANAGE_SESSION, 'Change the session settings'],
]

/** The indicator's word for why editing is blocked; the sentence is core's `whyNot`. */
const BADGE: Record<RefusalReason, string> = {
  observer: 'View only',
  muted: 'Muted',
  locked: 'Editing locked by instructor',
  role: 'View only',
}

export interface Indicator {
  badge: string
  why: string
  kind: 'ok' | 'wait' | 'blocked'
}

/** The badge's colour for each kind (see `toneStyles`). */
export const TONE: Record<Indicator['kind'], string> = { ok: 'ok', wait: '', blocked: 'warning' }

/** The badge beside the file name, and the sentence behind it. */
export function indicator({ room, phase, readonly }: EditorState): Indicator {
  if (phase === 'playground') return { badge: readonly ? 'Read-only' : 'Playground', why: 'This editor is not connected to a room: changes stay on this page.', kind: 'ok' }
  // A failed room: the room says why, once; the editor only says it is not connected.
  if (room?.status === 'error') return { badge: 'Not connected', why: room.error?.message ?? 'Not connected to the room.', kind: 'blocked' }
  if (!room || !room.participant || !room.session) return { badge: 'Connecting…', why: 'Joining the room.', kind: 'wait' }
  if (readonly) return { badge: 'Read-only', why: 'This editor is a read-only view.', kind: 'blocked' }
  const refused = whyNot(room.context!, Permission.EDIT_CODE)
  if (refused) return { badge: BADGE[refused.code], why: refused.message, kind: 'blocked' }
  return { badge: 'Editing', why: 'You can edit: everyone in the room sees your changes as you type.', kind: 'ok' }
}

export function saveState({ room, phase, pending, showingReplica }: EditorState) {
  const status = room?.status
  if (!room || phase === 'playground' || status === 'error') return nothing
  // Connecting for the first time is loading (the code may already show as plain text); only a
  // connection lost after being live is "Offline".
  if (status === 'offline' && room.error?.code === 'rate_limited') return html`<span part="save-state" class="save tone danger">Waiting to send</span>`
  if (status === 'offline' || (status === 'connecting' && phase === 'live')) return html`<span part="save-state" class="save tone danger">Offline</span>`
  if (phase !== 'live') return html`<span part="save-state" class="save tone">Loading live editor…</span>`
  if (!room.can(Permission.EDIT_CODE)) return nothing
  // Allowed to edit, still showing a light view: the replica is on its way.
  if (!showingReplica) return html`<span part="save-state" class="save tone">Loading live editor…</span>`
  return html`<span part="save-state" class="save tone">${pending ? 'Saving…' : 'All changes saved'}</span>`
}

/** Offline, waiting, or muted: shown above the code (not a live region: the room announces each). */
export function banner({ room, phase, readonly, canEdit }: EditorState) {
  if (!room) return nothing
  if (room.status === 'offline' && room.error?.code === 'rate_limited') {
    return html`<div part="banner" class="banner warn">${room.error.message}</div>`
  }
  if (room.status === 'offline' || (room.status === 'connecting' && phase === 'live')) {
    return html`<div part="banner" class="banner warn">Offline — reconnecting. ${canEdit ? 'Your edits are kept on this device and sent when the connection returns.' : 'The code below may be out of date.'}</div>`
  }
  if (room.status === 'waiting') return html`<div part="banner" class="banner">Waiting for the instructor to open this session…</div>`
  // Said where the code is, not only on the badge: the room announces the mute itself.
  const refused = !readonly && room.context ? whyNot(room.context, Permission.EDIT_CODE) : null
  if (refused?.code === 'muted') return html`<div part="banner" class="banner muted">${refused.message}</div>`
  return nothing
}

/** "What can I do?": the badge's sentence and each ability, yes or no. */
export function helpPanel(ind: Indicator, permissions: readonly Permission[]) {
  return html`<section id="help" part="help" class="help" aria-label="What you can do here">
    <p>${ind.why}</p>
    <ul>
      ${ABILITIES.map(([p, words]) => {
        const yes = permissions.includes(p)
        return html`<li class=${yes ? 'yes' : 'no'}><span aria-hidden="true">${yes ? '✓' : '—'}</span> ${words}<span class="visually-hidden">: ${yes ? 'yes' : 'no'}</span></li>`
      })}
    </ul>
    <p class="tip">Keyboard: Tab moves past the code. To edit it from the keyboard, press Enter in the code (Tab then indents), and Escape to stop; a click starts editing at once.</p>
  </section>`
}

/** Edits the server did not save, shown so the person can copy them. */
export function unsentPanel(unsent: readonly UnsentEdit[], why: string, copy: (text: string) => void, dismiss: () => void) {
  return html`<section part="unsent" class="unsent" aria-label="Your unsent edits">
    <h3>Your unsent edits</h3>
    <p>The server did not save these edits (${why}). Here is your version, so you can copy it.</p>
    ${unsent.map(
      (u) => html`<div class="unsent-file">
        <div class="unsent-head"><span>${u.file}</span><button type="button" @click=${() => copy(u.text)}>Copy ${u.file}</button></div>
        <pre>${u.text}</pre>
      </div>`,
    )}
    <button type="button" @click=${dismiss}>Dismiss</button>
  </section>`
}

/** Remove the common indentation of a code sample written inside the element. */
export function dedent(text: string): string {
  const lines = text.replace(/^\s*\n/, '').replace(/\s+$/, '').split('\n')
  const indent = Math.min(...lines.filter((l) => l.trim()).map((l) => /^\s*/.exec(l)![0].length))
  return lines.map((l) => l.slice(Number.isFinite(indent) ? indent : 0)).join('\n')
}
