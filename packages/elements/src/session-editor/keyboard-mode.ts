import { type Extension, Prec } from '@codemirror/state'
import { EditorView, keymap, ViewPlugin, type PluginValue, type ViewUpdate } from '@codemirror/view'

/** Said at the moment the code gets focus from the keyboard (and its accessible description). */
export const BROWSE_HINT = 'Press Enter to edit the code, or Tab to move on.'
/** Said when editing starts from the keyboard. */
export const EDIT_HINT = 'Editing: Tab indents. Press Escape, then Tab, to move on.'
const EDIT_HINT_MS = 4000

let ids = 0

/**
 * Keyboard users pass through the code without changing it. The code is shared: an indent typed by
 * someone only tabbing through the page would reach everyone. So focus that comes from the keyboard
 * (or a script) lands in "browse" mode, where Tab and Shift-Tab move on as anywhere in the page,
 * until Enter starts editing (Tab then indents); Escape stops editing, so the next Tab moves on
 * again. Typing in browse mode also starts editing (so Enter then breaks the line). A click or a tap
 * into the code starts editing at once. A hint says so at the moment of focus — visible, and the
 * code's accessible description, so screen readers say it too; mode changes are announced.
 */
class KeyboardMode implements PluginValue {
  /** browse: Tab moves focus; edit: keys edit, Tab indents; null: the code does not have focus. */
  mode: 'browse' | 'edit' | null = null
  readonly hint = document.createElement('div')
  #pointerAt = -Infinity
  #editHintUntil = 0
  #hintTimer?: ReturnType<typeof setTimeout>

  constructor(readonly view: EditorView) {
    this.hint.id = `sk-keys-${++ids}`
    this.hint.className = 'sk-keys-hint'
    this.hint.hidden = true
    this.hint.textContent = BROWSE_HINT
    view.dom.append(this.hint)
    view.dom.addEventListener('pointerdown', this.#pointer, true)
    view.contentDOM.addEventListener('focus', this.#focus)
    view.contentDOM.addEventListener('blur', this.#blur)
  }

  update(u: ViewUpdate) {
    if (this.mode === 'browse' && u.transactions.some((tr) => tr.docChanged && (tr.isUserEvent('input') || tr.isUserEvent('delete')))) {
      // Typing is editing. Announced after this update (no dispatch may happen within one).
      this.#set('edit', true)
      queueMicrotask(() => this.view.dispatch({ effects: EditorView.announce.of(EDIT_HINT) }))
    }
    if (u.startState.readOnly !== u.state.readOnly) this.#render()
  }

  destroy() {
    clearTimeout(this.#hintTimer)
    this.view.dom.removeEventListener('pointerdown', this.#pointer, true)
    this.view.contentDOM.removeEventListener('focus', this.#focus)
    this.view.contentDOM.removeEventListener('blur', this.#blur)
    this.hint.remove()
  }

  /** Enter in browse mode: start editing. */
  startEditing(): boolean {
    if (this.mode === 'edit' || this.view.state.readOnly) return false
    this.#set('edit', true)
    this.view.dispatch({ effects: EditorView.announce.of(EDIT_HINT) })
    return true
  }

  /** Escape while editing: stop, so the next Tab moves on. */
  stopEditing(): boolean {
    if (this.mode !== 'edit') return false
    this.#set('browse')
    this.view.dispatch({ effects: EditorView.announce.of(BROWSE_HINT) })
    return true
  }

  #set(mode: 'browse' | 'edit' | null, fromKeyboard = false) {
    this.mode = mode
    this.view.setTabFocusMode(mode !== 'edit')
    this.hint.textContent = mode === 'edit' ? EDIT_HINT : BROWSE_HINT
    this.#editHintUntil = mode === 'edit' && fromKeyboard ? performance.now() + EDIT_HINT_MS : 0
    clearTimeout(this.#hintTimer)
    if (this.#editHintUntil) this.#hintTimer = setTimeout(() => this.#render(), EDIT_HINT_MS)
    this.#render()
  }

  #render(focused = this.view.hasFocus) {
    const editable = !this.view.state.readOnly
    const show = focused && editable && (this.mode === 'browse' || (this.mode === 'edit' && performance.now() < this.#editHintUntil))
    this.hint.hidden = !show
    if (focused && this.mode) this.view.dom.dataset.keys = this.mode
    else delete this.view.dom.dataset.keys
  }

  #pointer = () => {
    this.#pointerAt = performance.now()
    if (this.view.hasFocus) this.#set('edit')
  }

  #focus = () => {
    // Focus follows the click that came just before it.
    if (performance.now() - this.#pointerAt < 1000) this.#set('edit')
    // From the keyboard or a script. (With a mode still set, the window came back: as it was.)
    else if (this.mode === null) this.#set('browse')
    else this.#render(true)
  }

  #blur = () => {
    // Leaving the window keeps the mode for coming back; moving elsewhere in the page ends it.
    if (this.view.contentDOM.ownerDocument.hasFocus()) {
      this.mode = null
      this.view.setTabFocusMode(true)
      clearTimeout(this.#hintTimer)
    }
    this.#render(false)
  }
}

const plugin = ViewPlugin.fromClass(KeyboardMode)

const hintTheme = EditorView.theme({
  '.sk-keys-hint': {
    flex: 'none',
    padding: '2px 8px',
    fontFamily: 'var(--_font)',
    fontSize: '12px',
    lineHeight: '1.5',
    color: 'var(--_fg)',
    background: 'var(--_surface)',
    borderTop: '1px solid var(--_accent)',
  },
  '.sk-keys-hint[hidden]': { display: 'none' },
  // While browsing with the keyboard the code shows it has focus (there is no caret to type at yet).
  '&[data-keys=browse].cm-focused': { outline: '2px solid var(--_accent)', outlineOffset: '-2px' },
})

/** Tab moves past the code until Enter starts editing; see `KeyboardMode`. */
export function keyboardMode(): Extension {
  return [
    plugin,
    hintTheme,
    Prec.highest(
      keymap.of([
        { key: 'Enter', run: (view) => view.plugin(plugin)?.startEditing() ?? false },
        { key: 'Escape', run: (view) => view.plugin(plugin)?.stopEditing() ?? false },
      ]),
    ),
    EditorView.contentAttributes.of((view) => {
      const hint = view.plugin(plugin)?.hint
      return hint && !view.state.readOnly ? { 'aria-describedby': hint.id } : null
    }),
  ]
}
