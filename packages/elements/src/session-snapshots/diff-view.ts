import { MergeView } from '@codemirror/merge'
import { EditorState } from '@codemirror/state'
import { EditorView, lineNumbers } from '@codemirror/view'
import { syntaxHighlighting } from '@codemirror/language'
import type { Language } from '@session-kit/core'
import { loadLanguage } from '../session-editor/languages.js'
import { codeHighlight } from '../session-editor/highlight.js'

/** The page's colours (light or dark), as the editor has them: CodeMirror's own gutters are light. */
const theme = EditorView.theme({
  '&': { backgroundColor: 'var(--_bg)', color: 'var(--_fg)' },
  '.cm-gutters': { backgroundColor: 'var(--_surface)', color: 'var(--_muted)', borderRight: '1px solid var(--_border)' },
  // Forced colours drop the tints and the underline (a gradient) that mark what changed.
  '@media (forced-colors: active)': {
    '.cm-changedText': { textDecoration: 'underline 2px' },
    '.cm-changedLineGutter': { forcedColorAdjust: 'none', backgroundColor: 'CanvasText' },
  },
})

/** A read-only side-by-side diff: the snapshot (left) against the current code (right). */
export async function createDiff(opts: { parent: HTMLElement; root: ShadowRoot; before: string; after: string; language: Language; labels: [string, string] }) {
  const lang = await loadLanguage(opts.language)
  const extensions = (label: string) => [
    lineNumbers(),
    theme,
    syntaxHighlighting(codeHighlight, { fallback: true }),
    lang,
    EditorState.readOnly.of(true),
    EditorView.editable.of(false),
    EditorView.contentAttributes.of({ 'aria-label': label }),
  ]
  return new MergeView({
    a: { doc: opts.before, extensions: extensions(opts.labels[0]) },
    b: { doc: opts.after, extensions: extensions(opts.labels[1]) },
    parent: opts.parent,
    root: opts.root,
    highlightChanges: true,
    gutter: true,
  })
}
