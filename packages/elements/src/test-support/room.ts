import { EditorView } from '@codemirror/view'
import { fixture } from '@open-wc/testing'
import { html } from 'lit'
import type { Role } from '@session-kit/core'
import '../define/session-room.js'
import '../define/session-editor.js'
import type { SessionEditor } from '../session-editor/session-editor.js'
import type { SessionRoom } from '../session-room/session-room.js'

let server: { url: string; apiKey: string } | undefined

/** The Session Kit server the test run started (see web-test-runner.config.mjs). */
export async function testServer() {
  server ??= (await (await fetch('/__sk/server')).json()) as { url: string; apiKey: string }
  return server
}

export async function token(sid: string, role: Role, user: string, name?: string, ttl?: string): Promise<string> {
  const q = new URLSearchParams({ sid, role, user, name: name ?? `${user} (${role})`, ...(ttl ? { ttl } : {}) })
  return ((await (await fetch(`/__sk/token?${q}`)).json()) as { token: string }).token
}

/** A host's token for an assignment (`assignment` instead of `sid`). */
export async function assignmentToken(assignment: string, role: Role, user: string, name?: string): Promise<string> {
  const q = new URLSearchParams({ assignment, role, user, name: name ?? `${user} (${role})` })
  return ((await (await fetch(`/__sk/token?${q}`)).json()) as { token: string }).token
}

/** Create an assignment through the host API (`POST /v1/assignments`). */
export async function createAssignment(body: { id: string; title: string; instructions: string; language: string; files: Record<string, string>; tests?: { visible?: Record<string, string>; hidden?: Record<string, string> }; submitPolicy?: string; dueAt?: string; ownerId?: string }) {
  const { url, apiKey } = await testServer()
  const res = await fetch(`${url}/v1/assignments`, { method: 'POST', headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' }, body: JSON.stringify({ ownerId: 'ins', ...body }) })
  if (res.status !== 201) throw new Error(`could not create assignment ${body.id}: ${res.status} ${await res.text()}`)
}

let n = 0
export const freshSid = (label = 's') => `${label}-${Date.now().toString(36)}-${n++}`

/** Create a session through the host API, with starter files. */
export async function createSession(sid: string, files: Record<string, string> = { 'main.js': '' }, ownerId = 'ins') {
  const { url, apiKey } = await testServer()
  const res = await fetch(`${url}/v1/sessions`, { method: 'POST', headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' }, body: JSON.stringify({ id: sid, title: `Test ${sid}`, ownerId, files }) })
  if (res.status !== 201) throw new Error(`could not create ${sid}: ${res.status}`)
}

export async function api(method: string, path: string, tok: string, body?: unknown) {
  const { url } = await testServer()
  return fetch(url + path, { method, headers: { authorization: `Bearer ${tok}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) })
}

/** A room with an editor, as a host page would write it. */
export async function mountRoom(sid: string, role: Role, user: string, opts: { file?: string; name?: string } = {}) {
  const { url } = await testServer()
  const tok = await token(sid, role, user, opts.name)
  const room = await fixture<SessionRoom>(html`<session-room server=${url} session=${sid} token=${tok}><session-editor file=${opts.file ?? 'main.js'}></session-editor></session-room>`)
  const editor = room.querySelector('session-editor') as SessionEditor
  return { room, editor, token: tok }
}

export async function waitFor(pred: () => boolean, ms = 8000, what = 'condition'): Promise<void> {
  const t0 = performance.now()
  while (performance.now() - t0 < ms) {
    if (pred()) return
    await new Promise((r) => setTimeout(r, 20))
  }
  if (!pred()) throw new Error(`timed out waiting for ${what}`)
}

/** The CodeMirror view inside an editor (once created). */
export function viewOf(editor: SessionEditor): EditorView | null {
  const content = editor.shadowRoot?.querySelector('.cm-content')
  return content ? EditorView.findFromDOM(content as HTMLElement) : null
}

export function shadowText(el: Element, selector: string): string {
  return el.shadowRoot?.querySelector(selector)?.textContent?.trim() ?? ''
}

/** Wait until the editor is live (synced with the document). */
export async function live(editor: SessionEditor) {
  await waitFor(() => editor.shadowRoot?.querySelector('.editor.live') !== null && viewOf(editor) !== null, 10000, 'a live editor')
  return viewOf(editor)!
}

/** Type text at the end of an editor as a person would (one transaction per character). */
export function typeAt(view: EditorView, pos: number, text: string) {
  for (const ch of text) {
    view.dispatch({ changes: { from: pos, insert: ch }, userEvent: 'input.type' })
    pos++
  }
}

/** A new session with an instructor's and a learner's live editor on it. */
export async function liveEditorPair(label: string, text: string) {
  const sid = freshSid(label)
  await createSession(sid, { 'main.js': text })
  const a = await mountRoom(sid, 'instructor', 'ins')
  const b = await mountRoom(sid, 'learner', 'lea')
  return { sid, a: a.editor, b: b.editor, va: await live(a.editor), vb: await live(b.editor) }
}
