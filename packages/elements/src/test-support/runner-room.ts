import { fixture } from '@open-wc/testing'
import { html } from 'lit'
import type { Role } from '@session-kit/core'
import '../define/session-room.js'
import '../define/session-runner.js'
import '../define/session-editor.js'
import type { SessionEditor } from '../session-editor/session-editor.js'
import type { SessionRoom } from '../session-room/session-room.js'
import type { SessionRunner } from '../session-runner/session-runner.js'
import { live, testServer, token, waitFor } from './room.js'

export const GRACE = { role: 'learner' as Role, user: 'lea', name: 'Grace' }

/** A room as a host page writes it: an editor and a runner on `file`, and editors on `more` files. */
export async function openRoom(sid: string, file: string, opts: { more?: string[]; who?: { role: Role; user: string; name: string }; timeout?: number } = {}) {
  const { url } = await testServer()
  const who = opts.who ?? GRACE
  const room = await fixture<SessionRoom>(html`<session-room server=${url} session=${sid} token=${await token(sid, who.role, who.user, who.name)}>
    <session-editor file=${file}></session-editor>
    ${(opts.more ?? []).map((f) => html`<session-editor file=${f}></session-editor>`)}
    <session-runner file=${file} timeout=${opts.timeout ?? 20}></session-runner>
  </session-room>`)
  const editors = [...room.querySelectorAll('session-editor')] as SessionEditor[]
  for (const e of editors) await live(e)
  const runner = room.querySelector('session-runner') as SessionRunner
  // Joined: Run is enabled, or says why not (an observer's).
  await waitFor(() => !button(runner, 'run-button').disabled || !['', 'Connecting…'].includes(shadow(runner).querySelector('.why')?.textContent ?? ''), 8000, 'the runner joined')
  return { room, editors, runner }
}

export const shadow = (runner: SessionRunner) => runner.shadowRoot!
export const button = (runner: SessionRunner, part: string) => shadow(runner).querySelector(`[part~=${part}]`) as HTMLButtonElement
export const statusText = (runner: SessionRunner) => shadow(runner).querySelector('[part=status]')?.textContent?.trim() ?? ''
export const announced = (runner: SessionRunner) => shadow(runner).querySelector('[role=status]')!.textContent!.trim()

/** The tests a person sees in `root`: outcome word, name, message and where it points. */
export function testRows(root: ParentNode) {
  return [...root.querySelectorAll('[part~=test]')].map((li) => ({
    outcome: li.querySelector('.outcome')!.textContent!.replace(/\s+/g, ' ').trim(),
    name: li.querySelector('.name')!.textContent!.trim(),
    message: li.querySelector('.message')?.textContent?.trim() ?? '',
    where: li.querySelector('.where')?.textContent?.trim() ?? '',
    time: li.querySelector('.time')!.textContent!.trim(),
  }))
}
