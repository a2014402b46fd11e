import { defaultKeymap, history, historyKeymap, indentWithTab } from '@codemirror/commands'
import { bracketMatching, indentOnInput, syntaxHighlighting } from '@codemirror/language'
import { ChangeSet, Compartment, EditorState, StateEffect, StateField, Transaction, type Extension } from '@codemirror/state'
import { Decoration, drawSelection, EditorView, highlightActiveLine, highlightActiveLineGutter, keymap, lineNumbers, WidgetType, type DecorationSet } from '@codemirror/view'
import { PARTICIPANT_COLORS, type Language, type LocalEdit, type TextEdit } from '@session-kit/core'
import type { TextSplice } from '../text-source.js'
import { loadLanguage } from './languages.js'
import { codeHighlight } from './highlight.js'
import { keyboardMode } from './keyboard-mode.js'
import { colorIndex } from '../session-element.js'

/** A remote participant's caret and selection, in this editor's coordinates. */
export interface RemoteCursor {
  userId: string
  name: string
  color: string
  anchor: number
  head: number
}

export interface EditorOptions {
  parent: HTMLElement
  root: ShadowRoot
  text: string
  language: Language
  readOnly: boolean
  label: string
  onLocalChange(edits: LocalEdit[], text: () => string): void
  onSelection(anchor: number, head: number): void
  /** Ctrl/Cmd+Enter. */
  onRun(): void
}

const setCursors = StateEffect.define<RemoteCursor[]>()

/**
 * The colour of a name on its caret, over that person's colour: every participant colour has at
 * least 4.5:1 (WCAG AA) against it, light and dark alike (the palette is the same in both).
 */
export const CARET_LABEL_TEXT = '#ffffff'

/** How long a caret's name shows after that person moved it (it also shows while hovered). */
const LABEL_MS = 1500

class CaretWidget extends WidgetType {
  constructor(
    readonly name: string,
    readonly color: string,
    /** When this person last moved their caret here (ms, performance.now()), if seen moving. */
    readonly movedAt: number | null,
  ) {
    super()
  }
  override eq(other: CaretWidget) {
    return other.name === this.name && other.color === this.color && other.movedAt === this.movedAt
  }
  toDOM() {
    const caret = document.createElement('span')
    caret.className = 'sk-caret'
    caret.style.borderColor = this.color
    caret.setAttribute('aria-hidden', 'true')
    const label = document.createElement('span')
    label.className = 'sk-caret-label'
    label.style.backgroundColor = this.color
    label.textContent = this.name
    // A line drawn again mid-way goes on with the same fade rather than starting it over.
    const since = this.movedAt === null ? Infinity : performance.now() - this.movedAt
    if (since < LABEL_MS) {
      label.classList.add('sk-caret-moved')
      label.style.animationDelay = `-${Math.round(since)}ms`
    }
    caret.append(label)
    return caret
  }
  // Clicks beside a caret place one's own cursor there as anywhere else.
  override ignoreEvent() {
    return false
  }
}

interface ShownCursor extends RemoteCursor {
  movedAt: number | null
}

// Selections are coloured by class, not by inline style, so the editor works under a strict CSP.
const colorClass = (color: string) => `sk-sel-${colorIndex(color)}`

/**
 * Other people's carets and selections. A caret's name shows while the caret is hovered, and for a
 * moment when that person moves it — not when carets first appear (one joins a room with many), nor
 * when someone else's edit merely shifts it.
 */
const remoteCursors = StateField.define<{ cursors: ShownCursor[]; deco: DecorationSet }>({
  create: () => ({ cursors: [], deco: Decoration.none }),
  update(value, tr) {
    let cursors = value.cursors
    const len = tr.state.doc.length
    // Someone's caret may be ahead of the text shown here (its edit is still on the way): keep it
    // within the text, or mapping it through the next change would throw.
    const within = <C extends RemoteCursor>(c: C, n: number): C => ({ ...c, anchor: Math.min(c.anchor, n), head: Math.min(c.head, n) })
    const before = tr.startState.doc.length
    // Where each caret was, carried through this transaction's changes: a new position differing
    // from it is a move of that person's own.
    const mapped = () => value.cursors.map((c) => within(c, before)).map((c) => ({ ...c, anchor: tr.changes.mapPos(c.anchor), head: tr.changes.mapPos(c.head) }))
    for (const e of tr.effects) {
      if (!e.is(setCursors)) continue
      const was = new Map(mapped().map((c) => [c.userId, c]))
      const now = performance.now()
      cursors = e.value.map((c) => {
        const prev = was.get(c.userId)
        const next = within(c, len)
        const moved = prev !== undefined && (prev.head !== next.head || prev.anchor !== next.anchor)
        return { ...next, movedAt: moved ? now : (prev?.movedAt ?? null) }
      })
    }
    if (cursors === value.cursors && !tr.docChanged) return value
    if (cursors === value.cursors) cursors = mapped()
    const ranges = []
    for (const c of cursors) {
      const anchor = Math.min(c.anchor, len)
      const head = Math.min(c.head, len)
      if (anchor !== head) ranges.push(Decoration.mark({ class: `sk-sel ${colorClass(c.color)}` }).range(Math.min(anchor, head), Math.max(anchor, head)))
      ranges.push(Decoration.widget({ widget: new CaretWidget(c.name, c.color, c.movedAt), side: 1 }).range(head))
    }
    return { cursors, deco: Decoration.set(ranges, true) }
  },
  provide: (f) => EditorView.decorations.from(f, (v) => v.deco),
})

const remote = Transaction.remote

const theme = EditorView.theme({
  // The code never sets the editor's width: in a page's grid or flex column, a long line would
  // widen the column past the screen (the page then scrolls sideways, and focusing the code
  // scrolls its first characters out of view). A long line scrolls inside the editor instead.
  '&': { height: '100%', backgroundColor: 'var(--_bg)', color: 'var(--_fg)', contain: 'inline-size' },
  '.cm-scroller': { fontFamily: 'var(--_mono)', fontSize: 'var(--session-editor-font-size, 14px)', lineHeight: '1.5' },
  '.cm-gutters': { backgroundColor: 'var(--_surface)', color: 'var(--_muted)', borderRight: '1px solid var(--_border)' },
  '.cm-activeLine': { backgroundColor: 'color-mix(in srgb, var(--_accent) 6%, transparent)' },
  '.cm-activeLineGutter': { backgroundColor: 'color-mix(in srgb, var(--_accent) 12%, transparent)' },
  '&.cm-focused': { outline: 'none' },
  '.cm-cursor': { borderLeftColor: 'var(--_fg)' },
  '.sk-caret': { position: 'relative', borderLeft: '2px solid', marginLeft: '-1px', marginRight: '-1px' },
  // A wider target than the 2 px line, so the name can be found by hovering the caret.
  '.sk-caret::before': { content: '""', position: 'absolute', top: '0', bottom: '0', left: '-5px', width: '8px' },
  '.sk-caret-label': {
    position: 'absolute',
    top: '-1.35em',
    left: '-2px',
    fontSize: '11px',
    lineHeight: '1.3',
    padding: '0 4px',
    borderRadius: '3px 3px 3px 0',
    color: CARET_LABEL_TEXT,
    whiteSpace: 'nowrap',
    pointerEvents: 'none',
    fontFamily: 'var(--_font)',
    zIndex: '5',
    opacity: '0',
    transition: 'opacity 120ms',
  },
  '.sk-caret:hover .sk-caret-label': { opacity: '1' },
  '.sk-caret-label.sk-caret-moved': { animation: `sk-caret-moved ${LABEL_MS}ms linear` },
  '@keyframes sk-caret-moved': { '0%': { opacity: '1' }, '80%': { opacity: '1' }, '100%': { opacity: '0' } },
  ...Object.fromEntries(PARTICIPANT_COLORS.map((c, i) => [`.sk-sel-${i}`, { backgroundColor: `${c}40` }])),
  // A name still shows after a move, and goes at once rather than fading.
  '@media (prefers-reduced-motion: reduce)': {
    '.sk-caret-label': { transition: 'none' },
    '.sk-caret-label.sk-caret-moved': { animationTimingFunction: 'step-end' },
  },
  // Forced colours drop backgrounds: a name gets a box of its own, and someone's selection (a tint
  // otherwise) a dashed outline.
  '@media (forced-colors: active)': {
    '.sk-caret-label': { border: '1px solid CanvasText' },
    '.sk-sel': { outline: '1px dashed CanvasText' },
  },
})

/**
 * The CodeMirror side of `<session-editor>`: one EditorView whose text follows one file of the
 * room's document. Local edits go out through `onLocalChange`; remote edits come in as splices
 * (`applySplices`, one transaction per batch, O(splice)), marked as remote so undo only reverses
 * the participant's own edits.
 */
export class CodeEditor {
  readonly view: EditorView
  #readOnly = new Compartment()
  #language = new Compartment()
  #a11y = new Compartment()
  #languageName: Language
  #readOnlyNow: boolean
  #labelNow: string

  constructor(private readonly opts: EditorOptions) {
    this.#languageName = opts.language
    this.#readOnlyNow = opts.readOnly
    this.#labelNow = opts.label
    const extensions: Extension[] = [
      lineNumbers(),
      highlightActiveLineGutter(),
      history(),
      drawSelection(),
      indentOnInput(),
      bracketMatching(),
      highlightActiveLine(),
      syntaxHighlighting(codeHighlight, { fallback: true }),
      keymap.of([{ key: 'Mod-Enter', run: () => (opts.onRun(), true) }, ...defaultKeymap, ...historyKeymap, indentWithTab]),
      // Tab indents only once one has chosen to edit: see keyboard-mode.ts.
      keyboardMode(),
      theme,
      remoteCursors,
      this.#readOnly.of(this.#readOnlyExt(opts.readOnly)),
      this.#language.of([]),
      this.#a11y.of(this.#a11yExt(opts.label)),
      EditorView.updateListener.of((u) => {
        // One call per local transaction: its positions refer to the text just before it.
        for (const tr of u.transactions) {
          if (!tr.docChanged || tr.annotation(remote)) continue
          const edits: LocalEdit[] = []
          tr.changes.iterChanges((fromA, toA, _fromB, _toB, inserted) => edits.push({ from: fromA, to: toA, insert: inserted.toString() }))
          opts.onLocalChange(edits, () => u.state.doc.toString())
        }
        if (u.selectionSet && u.view.hasFocus) {
          const sel = u.state.selection.main
          opts.onSelection(sel.anchor, sel.head)
        }
      }),
    ]
    this.view = new EditorView({ parent: opts.parent, root: opts.root, state: EditorState.create({ doc: opts.text, extensions }) })
    void this.setLanguage(opts.language)
  }

  #readOnlyExt(readOnly: boolean): Extension {
    return [EditorState.readOnly.of(readOnly), EditorView.editable.of(!readOnly)]
  }

  #a11yExt(label: string): Extension {
    // An explicit tabindex: read-only text (not editable) is otherwise not focusable at all, and
    // checkers do not count an editable element as focusable content of the scroller around it —
    // keyboard users must reach the code to read it and to scroll a long line or file.
    return EditorView.contentAttributes.of({ 'aria-label': label, tabindex: '0' })
  }

  get text() {
    return this.view.state.doc.toString()
  }

  setReadOnly(readOnly: boolean, label: string) {
    if (this.#readOnlyNow === readOnly && this.#labelNow === label) return
    this.#readOnlyNow = readOnly
    this.#labelNow = label
    this.view.dispatch({ effects: [this.#readOnly.reconfigure(this.#readOnlyExt(readOnly)), this.#a11y.reconfigure(this.#a11yExt(label))] })
  }

  async setLanguage(language: Language) {
    this.#languageName = language
    const ext = await loadLanguage(language)
    if (this.#languageName === language) this.view.dispatch({ effects: this.#language.reconfigure(ext) })
  }

  /**
   * Make the text equal `text` by the smallest single edit (the common start and end stay): the
   * plain text becoming live, a switch between a light view and the replica, a rebuilt replica.
   * Selection and scroll position are kept through it, and it is not an undoable edit.
   */
  replaceText(text: string) {
    const doc = this.view.state.doc
    const current = doc.toString()
    if (current === text) return
    const max = Math.min(current.length, text.length)
    let start = 0
    while (start < max && current.charCodeAt(start) === text.charCodeAt(start)) start++
    let end = 0
    while (end < max - start && current.charCodeAt(current.length - 1 - end) === text.charCodeAt(text.length - 1 - end)) end++
    this.#applyRemote(this.view.state.changes({ from: start, to: current.length - end, insert: text.slice(start, text.length - end) }))
  }

  /**
   * Apply remote splices for `file`, in order (each against the text after the one before), as one
   * transaction outside undo history: the cost follows the splices, not the file's length.
   */
  applySplices(splices: readonly TextSplice[], file: string) {
    const edits: TextEdit[] = []
    for (const s of splices) if (s.file === file) edits.push({ at: s.index, del: s.delete, ins: s.insert })
    this.applyEdits(edits)
  }

  /** Apply edits made elsewhere, in order (each relative to the text after the previous), as one transaction outside undo history. */
  applyEdits(edits: readonly TextEdit[]) {
    let changes: ChangeSet | null = null
    let length = this.view.state.doc.length
    for (const e of edits) {
      const step = ChangeSet.of([{ from: e.at, to: e.at + e.del, insert: e.ins }], length)
      changes = changes ? changes.compose(step) : step
      length = step.newLength
    }
    if (changes) this.#applyRemote(changes)
  }

  /**
   * Edits made elsewhere: outside undo history, and the line at the top of the scroller stays put
   * (CodeMirror keeps the pixel offset, so text added above what a person reads would push it down).
   */
  #applyRemote(changes: ChangeSet) {
    const scroll = this.view.scrollSnapshot().map(changes)
    this.view.dispatch({ changes, effects: scroll ? [scroll] : [], annotations: [remote.of(true), Transaction.addToHistory.of(false)] })
  }

  setRemoteCursors(cursors: RemoteCursor[]) {
    this.view.dispatch({ effects: setCursors.of(cursors) })
  }

  focus() {
    this.view.focus()
  }

  /** Put the caret at the start of a line (1-based; clamped to the text), scroll it to the middle and focus. */
  goToLine(line: number) {
    const doc = this.view.state.doc
    const at = doc.line(Math.min(Math.max(1, Math.floor(line)), doc.lines)).from
    this.view.dispatch({ selection: { anchor: at }, effects: EditorView.scrollIntoView(at, { y: 'center' }) })
    this.view.focus()
  }

  /** Scroll `pos` into view (to the middle when `center`), leaving this person's selection where it is. */
  reveal(pos: number, center = false) {
    const at = Math.min(pos, this.view.state.doc.length)
    this.view.dispatch({ effects: EditorView.scrollIntoView(at, { y: center ? 'center' : 'nearest', yMargin: 40 }) })
  }

  destroy() {
    this.view.destroy()
  }
}
