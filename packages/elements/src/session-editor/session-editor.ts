import { html, nothing, type PropertyValues } from 'lit'
import { property, query, state } from 'lit/decorators.js'
import { DEFAULT_FILE, languageForFile, LANGUAGES, Permission, type Language, type LocalEdit } from '@session-kit/core'
import { SessionChangeEvent } from '../events/events.js'
import { insideRoom, RoomController } from '../room-controller.js'
import type { RoomState } from '../room-state.js'
import { boxStyles, SessionElement, toneStyles, toolbarStyles } from '../session-element.js'
import type { TextSource, TextSplice, UnsentEdit } from '../text-source.js'
import { banner, dedent, helpPanel, indicator, saveState, TONE, unsentPanel, type EditorState, type Phase } from './editor-parts.js'
import type { CodeEditor } from './editor-view.js'
import { FollowController } from './follow.js'
import { RemoteCursors } from './remote-cursors.js'
import { styles } from './session-editor.styles.js'
import { sayAgain } from '../internal/format.js'

/** The room's replica, which takes this page's edits (a light view has none to take). */
interface WritableSource extends TextSource {
  splice(file: string, edits: LocalEdit[]): unknown
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
 * @csspart follow - While an instructor leads: "Following Ada in main.py", "Ada is leading." after breaking away, or to the leader "Everyone is following you".
 * @csspart follow-action - Its button: "Stop following", "Follow Ada again" or "Stop leading".
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
  static override styles = [SessionElement.baseStyles, boxStyles, toolbarStyles, styles, toneStyles]
  static override shadowRootOptions = { ...SessionElement.shadowRootOptions, delegatesFocus: true }

  /** The file to show (default: the session's first file). */
  @property({ reflect: true }) file?: string

  /** Highlighting: javascript, typescript, python, html or css (default: from the file name). */
  @property({ reflect: true }) language?: Language

  /** Read-only even for those who may edit (e.g. a reference pane). */
  @property({ type: Boolean, reflect: true }) readonly = false

  /** Light or dark; as the page is (its `color-scheme`) when absent. */
  @property({ reflect: true }) theme?: 'light' | 'dark'

  @state() private _phase: Phase = 'loading'
  @state() private _unsent: UnsentEdit[] = []
  @state() private _help = false
  @state() private _notice = ''
  @state() private _pending = 0
  @state() private _files: string[] = []

  @query('.cm-host') private _host!: HTMLElement

  #room = new RoomController(this, { needsDocument: true, onChange: (state, previous) => this.#roomChanged(state, previous) })
  #editor: CodeEditor | null = null
  #creating: Promise<CodeEditor> | null = null
  /** What the room offers to show (the replica or a light view). */
  #source: TextSource | null = null
  /** The source whose text the editor holds exactly, live; null while showing plain or older text. */
  #shown: TextSource | null = null
  /** Everyone else's cursors, drawn while the code is live. */
  #cursors = new RemoteCursors(() => ({
    room: this._room,
    source: this._phase === 'live' ? this.#shown : null,
    editor: this.#editor,
    file: this.#fileName,
  }))
  /** "Follow me": the leader's file and cursor while following them. */
  #following = new FollowController(this, this.#room, () => ({
    source: this._phase === 'live' ? this.#shown : null,
    file: this.#fileName,
    editor: this.#editor,
    fileChanged: () => {
      this.requestUpdate()
      if (this.#source?.synced) void this.#showLive()
    },
    say: (text) => this.#say(text),
  }))
  #selectionRound = 0
  #playgroundTimer?: ReturnType<typeof setTimeout>
  #initial = ''
  #plainFetched = false

  private get _room(): RoomState | undefined {
    return this.#room.state
  }

  /** The current code. */
  get value(): string {
    return this.#editor?.text ?? this.#initial
  }

  /** Set the code of a playground editor (ignored inside a room: the room's document rules). */
  set value(text: string) {
    if (this._room) return
    this.#initial = text
    this.#editor?.replaceText(text)
  }

  override connectedCallback() {
    super.connectedCallback()
    if (!this.#initial) this.#initial = dedent(this.textContent ?? '')
    // No room after the current task: this is a playground. Inside a <session-room> whose code has
    // not loaded yet (the CDN loads each element when it is needed), it is a room still joining.
    this.#playgroundTimer = setTimeout(() => {
      if (!this._room && this._phase === 'loading' && !insideRoom(this)) this._phase = 'playground'
    }, 0)
  }

  override disconnectedCallback() {
    super.disconnectedCallback()
    clearTimeout(this.#playgroundTimer)
    this.#follow(null)
    this.#cursors.watch(null)
    this.#following.watch(null)
    this.#editor?.destroy()
    this.#editor = null
    this.#creating = null
  }

  override focus(options?: FocusOptions) {
    if (this.#editor) this.#editor.focus()
    else super.focus(options)
  }

  /** Move the caret to a line of the code (1-based) and focus it: where a runner's error points. */
  goToLine(line: number) {
    if (this.#editor) this.#editor.goToLine(line)
    else this.focus()
  }

  protected override updated(changed: PropertyValues) {
    if (this._phase === 'playground' && !this.#editor) void this.#ensureEditor(this.#initial)
    if (changed.has('language') && this.#editor) void this.#editor.setLanguage(this.#language)
    if (changed.has('file') && changed.get('file') !== undefined) {
      // Choosing another file is reading on one's own: it ends following the leader.
      this.#following.breakAway('You switched file and stopped following', false)
      if (this.#source?.synced) void this.#showLive()
    }
    if (this.#editor) this.#syncReadOnly()
  }

  get #fileName(): string {
    const followed = this.#following.file
    if (followed) return followed
    if (this.file) return this.file
    const files = this.#source?.synced ? this.#source.files() : this._files
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
    if (this._phase !== 'live' || !this._room || this.#shown?.kind !== 'full') return false
    return this._room.can(Permission.EDIT_CODE)
  }

  #roomChanged(room: RoomState | undefined, previous: RoomState | undefined) {
    if (!room) return
    clearTimeout(this.#playgroundTimer)
    // The room came after the editor had given up waiting for one (its code loaded later).
    if (this._phase === 'playground') this._phase = 'loading'
    if (!previous || previous.client !== room.client) {
      this.#plainFetched = false
      // CodeMirror loads while the code is fetched, not after.
      import('./editor-view.js').catch(() => {})
    }
    // Also after the element was moved in the page (disconnecting let go of both).
    this.#cursors.watch(room.client)
    this.#following.watch(room.client)
    if (room.lecture !== previous?.lecture || room.participant !== previous?.participant) {
      this.#following.update()
      const me = room.participant?.userId
      if (this.#editor && this._phase === 'live' && room.lecture.follow?.userId === me && previous?.lecture.follow?.userId !== me) this.#shareWhereIAm(this.#editor)
    }
    if (room.source !== this.#source) this.#follow(room.source)
    // The plain text needs only the token: ask as the socket opens, not after its welcome.
    if ((room.status === 'connecting' || room.status === 'live') && !this.#plainFetched && !this.#source?.synced) void this.#fetchPlain(room)
    if (room.error?.code === 'document_unavailable' && room.error !== previous?.error) this._notice = room.error.message
    if (room.participants !== previous?.participants) this.#cursors.queue()
  }

  /** Show the code as plain text before the room's document has arrived. */
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
      if (this.#source?.synced) return
      this._files = Object.keys(files)
      const text = files[this.#fileName]
      if (text === undefined) {
        this._phase = 'missing-file'
        return
      }
      const editor = await this.#ensureEditor(text)
      if (!this.#source?.synced) {
        editor.replaceText(text)
        this._phase = 'plain'
      }
    } catch {
      // The live text will show the code; nothing more to do unless this was the early try.
      if (early) this.#plainFetched = false
    }
  }

  /**
   * Follow another source (the first one, or a switch between the replica and a light view when
   * permissions change). The editor keeps what it shows until the new source holds the whole
   * text, then moves to it by the smallest edit: scroll position and selection stay.
   */
  #follow(source: TextSource | null) {
    const old = this.#source
    if (old) for (const [type, listener] of this.#sourceListeners) old.removeEventListener(type, listener)
    this.#source = source
    this.#show(null)
    if (!source) return
    for (const [type, listener] of this.#sourceListeners) source.addEventListener(type, listener)
    this._pending = source.pending
    if (source.synced) void this.#showLive()
  }

  /** The editor now mirrors `source` live (or nothing): what may be typed follows. */
  #show(source: TextSource | null) {
    this.#shown = source
    this.requestUpdate()
  }

  #onReady = () => void this.#showLive()

  // The source is being rebuilt from the server: keep showing the code, read-only, until it is.
  #onReset = () => {
    this.#show(null)
    if (this._phase === 'live') this._phase = 'plain'
  }

  #onSplices = (e: Event) => {
    if (!this.#editor || !this.#shown || this.#shown !== this.#source) return
    this.#editor.applySplices((e as CustomEvent<TextSplice[]>).detail, this.#fileName)
    this.#cursors.queue()
  }

  #onUnsent = (e: Event) => {
    const edits = (e as CustomEvent<UnsentEdit[]>).detail
    this._unsent = [...this._unsent.filter((u) => !edits.some((d) => d.file === u.file)), ...edits]
  }

  #onSaved = () => {
    this._pending = this.#source?.pending ?? 0
  }

  #sourceListeners: [string, EventListener][] = [
    ['ready', this.#onReady],
    ['reset', this.#onReset],
    // Files added, renamed or removed, or a text rebuilt: read it again.
    ['text', this.#onReady],
    ['splices', this.#onSplices],
    ['unsent', this.#onUnsent],
    ['saved', this.#onSaved],
  ]

  /** Make the editor hold the source's text (by the smallest edit) and follow its splices. */
  async #showLive() {
    const source = this.#source
    if (!source?.synced) return
    this.#show(null)
    this._files = source.files()
    if (source.text(this.#fileName) === undefined) {
      this._phase = 'missing-file'
      return
    }
    const editor = await this.#ensureEditor(source.text(this.#fileName)!)
    // Another source, a reset or newer text may have come while CodeMirror loaded: take it as it is now.
    if (this.#source !== source || !source.synced) return
    const text = source.text(this.#fileName)
    if (text === undefined) {
      this._phase = 'missing-file'
      return
    }
    editor.replaceText(text)
    this.#show(source)
    this._phase = 'live'
    void editor.setLanguage(this.#language)
    this.#cursors.queue()
    if (this.#following.phase === 'leading') this.#shareWhereIAm(editor)
    else void this.#following.reveal(true)
  }

  /**
   * The leader's page says where they are as soon as they lead or open a file (not only once they
   * move the caret): from the editor they are in, else the room's first editor.
   */
  #shareWhereIAm(editor: CodeEditor) {
    if (!this.matches(':focus-within') && this.closest('session-room')?.querySelector('session-editor') !== this) return
    const { anchor, head } = editor.view.state.selection.main
    this.#selection(anchor, head)
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

  #localChange(edits: LocalEdit[], current: () => string) {
    const file = this.#fileName
    const source = this.#shown
    if (this._phase === 'live' && source?.kind === 'full' && source === this.#source) (source as WritableSource).splice(file, edits)
    this.dispatchEvent(new SessionChangeEvent(this._phase === 'playground' ? 'playground' : file, current()))
  }

  /** Share where this person's caret is, as a cursor the source keeps stable under others' edits. */
  #selection(anchor: number, head: number) {
    const source = this.#shown
    const client = this._room?.client
    if (this._phase !== 'live' || !source || !client) return
    const file = this.#fileName
    const round = ++this.#selectionRound
    void Promise.all([source.cursor(file, anchor), source.cursor(file, head)]).then(([a, h]) => {
      if (round === this.#selectionRound) client.setCursor({ file, anchor: a, head: h })
    })
  }

  /**
   * The runner that runs this editor's code: one pointing at it with `for`, else the room's runner
   * for this file, else the room's first runner.
   */
  get #runner(): (HTMLElement & { run(r: { file?: string; code?: string; language?: string }): Promise<unknown>; canRun: boolean }) | null {
    const byFor = this.id ? this.ownerDocument.querySelector(`session-runner[for="${CSS.escape(this.id)}"]`) : null
    const room = this._room ? this.closest('session-room') : null
    const found = byFor ?? room?.querySelector(`session-runner[file="${CSS.escape(this.#fileName)}"]:not([for])`) ?? room?.querySelector('session-runner:not([for])')
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
      this.#say('Copied to the clipboard.')
    } catch {
      this.#say('Copying was blocked: select the text and copy it by hand.')
    }
  }

  /** Say `text` politely: the same words again too. */
  #say(text: string) {
    this._notice = sayAgain(this._notice, text)
  }

  /** What the status line, banner and panels are rendered from. */
  get #state(): EditorState {
    return { room: this._room, phase: this._phase, readonly: this.readonly, pending: this._pending, showingReplica: this.#shown?.kind === 'full', canEdit: this.#canEdit }
  }

  protected override render() {
    const state = this.#state
    const ind = indicator(state)
    const room = this._room
    const permissions = room?.permissions ?? []
    const file = this._phase === 'playground' ? null : this.#fileName
    return html`
      <div part="toolbar" class="toolbar">
        ${file ? html`<span part="file" class="file">${file}</span>` : nothing}
        <span part="indicator" class="indicator tone ${TONE[ind.kind]}" title=${ind.why}>${ind.badge}</span>
        ${saveState(state)}
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
      ${this._help && room ? helpPanel(ind, permissions) : nothing}
      ${banner(state)} ${this.#following.render()}
      ${this._unsent.length
        ? unsentPanel(this._unsent, this._room?.error?.message ?? 'your permissions changed', (text) => void this.#copy(text), () => (this._unsent = []))
        : nothing}
      ${this._phase === 'missing-file'
        ? html`<p part="banner" class="banner" role="status">There is no file named “${this.#fileName}” in this session${this._files.length ? html` (files: ${this._files.join(', ')})` : nothing}.</p>`
        : nothing}
      <div
        part="editor"
        class="editor ${this._phase}"
        @wheel=${{ handleEvent: this.#following.listeners.wheel, passive: true }}
        @touchmove=${{ handleEvent: this.#following.listeners.touchmove, passive: true }}
        @keydown=${this.#following.listeners.keydown}
      >
        <div class="cm-host"></div>
        ${this._phase === 'loading' ? html`<p class="placeholder" role="status">${room?.status === 'error' ? 'The code is not available: not connected.' : 'Loading the code…'}</p>` : nothing}
      </div>
      <div class="visually-hidden" role="status" aria-live="polite">${this._notice}</div>
    `
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'session-editor': SessionEditor
  }
}
