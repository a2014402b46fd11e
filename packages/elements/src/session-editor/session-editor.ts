import { consume } from '@lit/context'
import { html, nothing, type PropertyValues } from 'lit'
import { property, query, state } from 'lit/decorators.js'
import { DEFAULT_FILE, editBlockReason, languageForFile, LANGUAGES, Permission, type Language } from '@session-kit/core'
import { SessionChangeEvent } from '../events/events.js'
import { roomContext } from '../internal/context.js'
import type { DocSync, Patch, UnsentEdit } from '../internal/doc-sync.js'
import type { RoomState } from '../internal/room-state.js'
import { SessionElement } from '../internal/session-element.js'
import type { CodeEditor, RemoteCursor } from './editor-view.js'
import { styles } from './session-editor.styles.js'

type Phase = 'loading' | 'plain' | 'live' | 'playground' | 'missing-file'

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

const BLOCKED: Record<'observer' | 'muted' | 'locked', { badge: string; why: string }> = {
  observer: { badge: 'View only', why: 'You are observing: you can follow the code but not type.' },
  muted: { badge: 'Muted', why: 'The instructor muted you: you cannot type, run or chat until you are unmuted.' },
  locked: { badge: 'Editing locked by instructor', why: 'The instructor has locked editing for learners for now.' },
}

/**
 * A code editor bound to one file of the room's document, live: everyone's edits appear as they
 * are typed, with their cursors and names. It is read-only when the participant may not edit, and
 * says why. The code appears at once as plain text, then becomes live when the document has
 * synced. Unsent edits survive a reload. Outside a `<session-room>` it is a local playground whose
 * initial code is the element's text content.
 *
 * @tag session-editor
 * @summary A live, role-aware CodeMirror editor for one file of the room.
 *
 * @csspart toolbar - The bar above the code with the file name and status.
 * @csspart file - The file name.
 * @csspart indicator - What you can do here: "Editing", "View only", "Muted", "Editing locked by instructor".
 * @csspart save-state - "Saving…" / "All changes saved" / "Offline".
 * @csspart run-button - The Run button (when a `<session-runner>` is in the room, or points at this editor with `for`).
 * @csspart help-button - The "What can I do?" button.
 * @csspart help - The panel listing what the participant can do.
 * @csspart banner - Offline and error messages above the code.
 * @csspart unsent - The panel with edits that could not be saved.
 * @csspart editor - The area holding the code.
 *
 * @cssprop --session-editor-height - Height of the editor (default 20rem; the element can also be sized directly).
 * @cssprop --session-editor-font-size - Font size of the code (default 14px).
 * @cssprop --session-font-mono - Monospace font of the code.
 * @cssprop --session-color-background - Background of the code.
 * @cssprop --session-color-surface - Background of the toolbar and gutter.
 * @cssprop --session-color-accent - Accent colour.
 *
 * @event session-change - The participant changed the code (`file`, `value`).
 */
export class SessionEditor extends SessionElement {
  /** @internal Lit styles. */
  static override styles = [SessionElement.baseStyles, styles]
  static override shadowRootOptions = { ...SessionElement.shadowRootOptions, delegatesFocus: true }

  /** The file to show (default: the session's first file). */
  @property({ reflect: true }) file?: string

  /** Highlighting: javascript, typescript, python, html or css (default: from the file name). */
  @property({ reflect: true }) language?: Language

  /** Read-only even for those who may edit (e.g. a reference pane). */
  @property({ type: Boolean, reflect: true }) readonly = false

  /** Light or dark; follows the system when absent. */
  @property({ reflect: true }) theme?: 'light' | 'dark'

  @consume({ context: roomContext, subscribe: true })
  @state()
  private _room?: RoomState

  @state() private _phase: Phase = 'loading'
  @state() private _unsent: UnsentEdit[] = []
  @state() private _help = false
  @state() private _notice = ''
  @state() private _pending = 0
  @state() private _files: string[] = []

  @query('.cm-host') private _host!: HTMLElement

  #editor: CodeEditor | null = null
  #creating: Promise<CodeEditor> | null = null
  #doc: DocSync | null = null
  #playgroundTimer?: ReturnType<typeof setTimeout>
  #initial = ''
  #plainFetched = false

  /** The current code. */
  get value(): string {
    return this.#editor?.text ?? this.#initial
  }

  /** Set the code of a playground editor (ignored inside a room: the room's document rules). */
  set value(text: string) {
    if (this._room) return
    this.#initial = text
    this.#editor?.setText(text)
  }

  override connectedCallback() {
    super.connectedCallback()
    if (!this.#initial) this.#initial = dedent(this.textContent ?? '')
    // No room after the current task: this is a playground.
    this.#playgroundTimer = setTimeout(() => {
      if (!this._room && this._phase === 'loading') this._phase = 'playground'
    }, 0)
  }

  override disconnectedCallback() {
    super.disconnectedCallback()
    clearTimeout(this.#playgroundTimer)
    this.#detachDoc()
    this.#editor?.destroy()
    this.#editor = null
    this.#creating = null
  }

  override focus(options?: FocusOptions) {
    if (this.#editor) this.#editor.focus()
    else super.focus(options)
  }

  protected override updated(changed: PropertyValues) {
    if (changed.has('_room')) this.#roomChanged(changed.get('_room') as RoomState | undefined)
    if (this._phase === 'playground' && !this.#editor) void this.#ensureEditor(this.#initial)
    if (changed.has('language') && this.#editor) void this.#editor.setLanguage(this.#language)
    if (changed.has('file') && changed.get('file') !== undefined && this.#doc?.synced) this.#showLive()
    if (this.#editor) this.#syncReadOnly()
  }

  get #fileName(): string {
    if (this.file) return this.file
    const files = this.#doc?.synced ? this.#doc.files() : this._files
    if (files.length) return files[0]!
    return DEFAULT_FILE[(this._room?.session?.language as Language) ?? 'javascript'] ?? 'main.js'
  }

  get #language(): Language {
    if (this.language && (LANGUAGES as readonly string[]).includes(this.language)) return this.language
    const fallback = (this._room?.session?.language as Language) ?? 'javascript'
    return languageForFile(this.#fileName, fallback)
  }

  get #canEdit(): boolean {
    if (this.readonly) return false
    if (this._phase === 'playground') return true
    if (this._phase !== 'live' || !this._room) return false
    return this._room.can(Permission.EDIT_CODE)
  }

  #roomChanged(previous: RoomState | undefined) {
    const room = this._room
    if (!room) return
    clearTimeout(this.#playgroundTimer)
    if (!previous || previous.client !== room.client) {
      this.#detachDoc()
      this.#plainFetched = false
      // CodeMirror loads while the code is fetched, not after.
      import('./editor-view.js').catch(() => {})
      room.client.needDocument().then(
        (doc) => this.#attachDoc(doc),
        (e: Error) => (this._notice = `The live editor could not load (${e.message}). The code stays readable.`),
      )
    }
    // The plain text needs only the token: ask as the socket opens, not after its welcome.
    if ((room.status === 'connecting' || room.status === 'live') && !this.#plainFetched && !this.#doc?.synced) void this.#fetchPlain(room)
    this.#updateCursors()
  }

  /** Show the code as plain text before Automerge has loaded and synced. */
  async #fetchPlain(room: RoomState) {
    this.#plainFetched = true
    const client = room.client
    // Asked before the welcome, it may be refused (a session not open yet): ask again once live.
    const early = room.status !== 'live'
    try {
      const res = await client.api('GET', '/document')
      if (!res.ok) {
        if (early) this.#plainFetched = false
        return
      }
      const { files } = (await res.json()) as { files: Record<string, string> }
      this._files = Object.keys(files)
      if (this.#doc?.synced) return
      const text = files[this.#fileName]
      if (text === undefined) {
        this._phase = 'missing-file'
        return
      }
      const editor = await this.#ensureEditor(text)
      if (!this.#doc?.synced) {
        editor.setText(text)
        this._phase = 'plain'
      }
    } catch {
      // The live sync will show the code; nothing more to do unless this was the early try.
      if (early) this.#plainFetched = false
    }
  }

  #attachDoc(doc: DocSync) {
    if (this.#doc === doc) return
    this.#doc = doc
    doc.addEventListener('ready', this.#onReady)
    doc.addEventListener('reset', this.#onReset)
    doc.addEventListener('patches', this.#onPatches as EventListener)
    doc.addEventListener('unsent', this.#onUnsent as EventListener)
    doc.addEventListener('saved', this.#onSaved)
    if (doc.synced) this.#showLive()
  }

  #detachDoc() {
    const doc = this.#doc
    if (!doc) return
    doc.removeEventListener('ready', this.#onReady)
    doc.removeEventListener('reset', this.#onReset)
    doc.removeEventListener('patches', this.#onPatches as EventListener)
    doc.removeEventListener('unsent', this.#onUnsent as EventListener)
    doc.removeEventListener('saved', this.#onSaved)
    this.#doc = null
  }

  #onReady = () => this.#showLive()

  // The replica is being rebuilt from the server: keep showing the code, read-only, until it is.
  #onReset = () => {
    if (this._phase === 'live') this._phase = 'plain'
  }

  #onPatches = (e: CustomEvent<Patch[]>) => {
    if (this._phase !== 'live' || !this.#editor) return
    const file = this.#fileName
    if (this.#editor.applyPatches(e.detail, file)) this.#editor.setText(this.#doc!.text(file) ?? '')
    if (this.#doc && this.#doc.text(file) === undefined) this._phase = 'missing-file'
    this._files = this.#doc?.files() ?? this._files
    this.#updateCursors()
  }

  #onUnsent = (e: CustomEvent<UnsentEdit[]>) => {
    this._unsent = [...this._unsent.filter((u) => !e.detail.some((d) => d.file === u.file)), ...e.detail]
  }

  #onSaved = () => {
    this._pending = this.#doc?.pending ?? 0
  }

  async #showLive() {
    const doc = this.#doc
    if (!doc?.synced) return
    this._files = doc.files()
    const text = doc.text(this.#fileName)
    if (text === undefined) {
      this._phase = 'missing-file'
      return
    }
    const editor = await this.#ensureEditor(text)
    // The document is the truth: take its text whole (first sync, or a rebuilt replica).
    editor.setText(doc.text(this.#fileName) ?? '')
    this._phase = 'live'
    void editor.setLanguage(this.#language)
    this.#updateCursors()
  }

  #ensureEditor(text: string): Promise<CodeEditor> {
    if (this.#editor) return Promise.resolve(this.#editor)
    this.#creating ??= (async () => {
      await this.updateComplete
      const { CodeEditor } = await import('./editor-view.js')
      const editor = new CodeEditor({
        parent: this._host,
        root: this.shadowRoot!,
        text,
        language: this.#language,
        readOnly: true,
        label: this.#label(),
        onLocalChange: (edits, current) => this.#localChange(edits, current),
        onSelection: (anchor, head) => this.#selection(anchor, head),
        onRun: () => void this.run(),
      })
      this.#editor = editor
      this.#syncReadOnly()
      this.requestUpdate()
      return editor
    })()
    return this.#creating
  }

  #label() {
    const file = this._phase === 'playground' ? 'playground' : this.#fileName
    return `Code editor, ${file}${this.#canEdit ? '' : ', read-only'}`
  }

  #syncReadOnly() {
    this.#editor?.setReadOnly(!this.#canEdit, this.#label())
  }

  #localChange(edits: { from: number; to: number; insert: string }[], current: () => string) {
    const file = this.#fileName
    if (this._phase === 'live' && this.#doc?.synced) this.#doc.splice(file, edits)
    this.dispatchEvent(new SessionChangeEvent(this._phase === 'playground' ? 'playground' : file, current()))
  }

  #selection(anchor: number, head: number) {
    const doc = this.#doc
    if (this._phase !== 'live' || !doc || !this._room) return
    const file = this.#fileName
    this._room.client.setCursor({ file, anchor: doc.cursor(file, anchor), head: doc.cursor(file, head) })
  }

  #updateCursors() {
    const room = this._room
    const doc = this.#doc
    if (!this.#editor || !room || !doc?.synced || this._phase !== 'live') return
    const file = this.#fileName
    const me = room.participant?.userId
    const cursors: RemoteCursor[] = []
    for (const p of room.participants) {
      if (p.userId === me || !p.cursor || p.cursor.file !== file) continue
      const anchor = doc.cursorPosition(file, p.cursor.anchor)
      const head = doc.cursorPosition(file, p.cursor.head)
      if (anchor === null || head === null) continue
      cursors.push({ userId: p.userId, name: p.name, color: p.color, anchor, head })
    }
    this.#editor.setRemoteCursors(cursors)
  }

  /** The runner that runs this editor's code: one pointing at it with `for`, else one in the room. */
  get #runner(): (HTMLElement & { run(r: { file?: string; code?: string; language?: string }): Promise<unknown>; canRun: boolean }) | null {
    const byFor = this.id ? this.ownerDocument.querySelector(`session-runner[for="${CSS.escape(this.id)}"]`) : null
    const found = byFor ?? (this._room ? this.closest('session-room')?.querySelector('session-runner:not([for])') : null)
    return (found as never) ?? null
  }

  /** Run this editor's code in its runner (Ctrl/Cmd+Enter). */
  async run() {
    const runner = this.#runner
    if (!runner || !runner.canRun) return
    await runner.run({ file: this._phase === 'playground' ? undefined : this.#fileName, code: this.value, language: this.#language })
  }

  async #copy(text: string) {
    try {
      await navigator.clipboard.writeText(text)
      this._notice = 'Copied to the clipboard.'
    } catch {
      this._notice = 'Copying was blocked: select the text and copy it by hand.'
    }
  }

  #indicator() {
    if (this._phase === 'playground') return { badge: this.readonly ? 'Read-only' : 'Playground', why: 'This editor is not connected to a room: changes stay on this page.', kind: 'ok' }
    const room = this._room
    if (!room || !room.participant || !room.session) return { badge: 'Connecting…', why: 'Joining the room.', kind: 'wait' }
    if (this.readonly) return { badge: 'Read-only', why: 'This editor is a read-only view.', kind: 'blocked' }
    const reason = editBlockReason({ role: room.participant.role, muted: room.participant.muted, owner: room.participant.owner, editingLocked: room.session.editingLocked })
    if (reason) return { ...BLOCKED[reason], kind: 'blocked' }
    return { badge: 'Editing', why: 'You can edit: everyone in the room sees your changes as you type.', kind: 'ok' }
  }

  #saveState() {
    const status = this._room?.status
    if (!this._room || this._phase === 'playground') return nothing
    // Connecting for the first time is loading (the code may already show as plain text); only a
    // connection lost after being live is "Offline".
    if (status === 'offline' && this._room.error?.code === 'rate_limited') return html`<span part="save-state" class="save offline">Waiting to send</span>`
    if (status === 'offline' || (status === 'connecting' && this._phase === 'live')) return html`<span part="save-state" class="save offline">Offline</span>`
    if (this._phase !== 'live') return html`<span part="save-state" class="save">Loading live editor…</span>`
    if (!this._room.can(Permission.EDIT_CODE)) return nothing
    return html`<span part="save-state" class="save">${this._pending ? 'Saving…' : 'All changes saved'}</span>`
  }

  #banner() {
    const room = this._room
    if (!room) return nothing
    if (room.status === 'offline' && room.error?.code === 'rate_limited') {
      return html`<div part="banner" class="banner warn" role="status">${room.error.message}</div>`
    }
    if (room.status === 'offline' || (room.status === 'connecting' && this._phase === 'live')) {
      return html`<div part="banner" class="banner warn" role="status">Offline — reconnecting. ${this.#canEdit ? 'Your edits are kept on this device and sent when the connection returns.' : 'The code below may be out of date.'}</div>`
    }
    if (room.status === 'error' && room.error) return html`<div part="banner" class="banner error" role="alert">Not connected: ${room.error.message}</div>`
    if (room.status === 'waiting') return html`<div part="banner" class="banner" role="status">Waiting for the instructor to open this session…</div>`
    return nothing
  }

  protected override render() {
    const ind = this.#indicator()
    const room = this._room
    const permissions = room?.permissions ?? []
    const file = this._phase === 'playground' ? null : this.#fileName
    return html`
      <div part="toolbar" class="toolbar">
        ${file ? html`<span part="file" class="file">${file}</span>` : nothing}
        <span part="indicator" class="indicator ${ind.kind}" title=${ind.why}>${ind.badge}</span>
        ${this.#saveState()}
        <span class="spacer"></span>
        ${this.#runner?.canRun && (this._phase === 'live' || this._phase === 'playground' || this._phase === 'plain')
          ? html`<button part="run-button" class="run-button primary" type="button" title="Run (Ctrl+Enter)" @click=${() => this.run()}>Run</button>`
          : nothing}
        ${room
          ? html`<button part="help-button" class="help-button" type="button" aria-expanded=${String(this._help)} aria-controls="help" @click=${() => (this._help = !this._help)}>
              What can I do?
            </button>`
          : nothing}
      </div>
      ${this._help && room
        ? html`<section id="help" part="help" class="help" aria-label="What you can do here">
            <p>${ind.why}</p>
            <ul>
              ${ABILITIES.map(([p, words]) => {
                const yes = permissions.includes(p)
                return html`<li class=${yes ? 'yes' : 'no'}><span aria-hidden="true">${yes ? '✓' : '—'}</span> ${words}<span class="visually-hidden">: ${yes ? 'yes' : 'no'}</span></li>`
              })}
            </ul>
            <p class="tip">Keyboard: Tab indents inside the code; press Escape, then Tab, to move on.</p>
          </section>`
        : nothing}
      ${this.#banner()}
      ${this._unsent.length
        ? html`<section part="unsent" class="unsent" aria-label="Your unsent edits">
            <h3>Your unsent edits</h3>
            <p>The server did not save these edits (${this._room?.error?.message ?? 'your permissions changed'}). Here is your version, so you can copy it.</p>
            ${this._unsent.map(
              (u) => html`<div class="unsent-file">
                <div class="unsent-head"><span>${u.file}</span><button type="button" @click=${() => this.#copy(u.text)}>Copy ${u.file}</button></div>
                <pre>${u.text}</pre>
              </div>`,
            )}
            <button type="button" @click=${() => (this._unsent = [])}>Dismiss</button>
          </section>`
        : nothing}
      ${this._phase === 'missing-file'
        ? html`<p part="banner" class="banner" role="status">There is no file named “${this.#fileName}” in this session${this._files.length ? html` (files: ${this._files.join(', ')})` : nothing}.</p>`
        : nothing}
      <div part="editor" class="editor ${this._phase}">
        <div class="cm-host"></div>
        ${this._phase === 'loading' ? html`<p class="placeholder" role="status">Loading the code…</p>` : nothing}
      </div>
      <div class="visually-hidden" role="status" aria-live="polite">${this._notice}</div>
    `
  }
}

/** Remove the common indentation of a code sample written inside the element. */
function dedent(text: string): string {
  const lines = text.replace(/^\s*\n/, '').replace(/\s+$/, '').split('\n')
  const indent = Math.min(...lines.filter((l) => l.trim()).map((l) => /^\s*/.exec(l)![0].length))
  return lines.map((l) => l.slice(Number.isFinite(indent) ? indent : 0)).join('\n')
}

declare global {
  interface HTMLElementTagNameMap {
    'session-editor': SessionEditor
  }
}
