import type { Extension } from '@codemirror/state'
import type { Language } from '@session-kit/core'

/** Syntax support per language, each loaded only when an editor shows that language. */
export async function loadLanguage(language: Language): Promise<Extension> {
  switch (language) {
    case 'javascript':
      return (await import('@codemirror/lang-javascript')).javascript()
    case 'typescript':
      return (await import('@codemirror/lang-javascript')).javascript({ typescript: true })
    case 'python':
      return (await import('@codemirror/lang-python')).python()
    case 'html':
      return (await import('@codemirror/lang-html')).html()
    case 'css':
      return (await import('@codemirror/lang-css')).css()
    default:
      return []
  }
}
