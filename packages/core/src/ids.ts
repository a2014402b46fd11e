import * as v from 'valibot'

/** Session ids are chosen by hosts; they travel in URLs, so keep them plain. */
export const SESSION_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/
export const SessionIdSchema = v.pipe(
  v.string(),
  v.regex(SESSION_ID_PATTERN, 'a session id is 1–100 letters, digits, ".", "_" or "-", starting with a letter or digit'),
)

/** File names in the document: no slashes at the ends, no control characters. */
export const FILE_NAME_PATTERN = /^(?!\/)(?!.*\/$)[^\u0000-\u001f\u007f\\]{1,200}$/
export const FileNameSchema = v.pipe(v.string(), v.regex(FILE_NAME_PATTERN, 'a file name is 1–200 characters without control characters or backslashes'))

export const LANGUAGES = ['javascript', 'typescript', 'python', 'html', 'css'] as const
export type Language = (typeof LANGUAGES)[number]
export const LanguageSchema = v.picklist(LANGUAGES, `language must be one of ${LANGUAGES.join(', ')}`)

/** The file a new session starts with, by language. */
export const DEFAULT_FILE: Readonly<Record<Language, string>> = {
  javascript: 'main.js',
  typescript: 'main.ts',
  python: 'main.py',
  html: 'index.html',
  css: 'style.css',
}

/** The language an editor should highlight a file in, judged by its extension. */
export function languageForFile(name: string, fallback: Language = 'javascript'): Language {
  const ext = name.slice(name.lastIndexOf('.') + 1).toLowerCase()
  switch (ext) {
    case 'js': case 'mjs': case 'cjs': case 'jsx': return 'javascript'
    case 'ts': case 'mts': case 'tsx': return 'typescript'
    case 'py': return 'python'
    case 'html': case 'htm': return 'html'
    case 'css': return 'css'
    default: return fallback
  }
}

/** The colours given to participants (cursors, avatars): white text on each has a contrast of at least 5:1. */
export const PARTICIPANT_COLORS: readonly string[] = ['#b42335', '#1f6f9c', '#2f7a1f', '#a23d93', '#b04a05', '#00707f', '#6b3fae', '#8b4513', '#1b5e9e', '#9c1585', '#1e7a70', '#7a5230']

/** A stable colour per user id, so a person keeps the same cursor colour everywhere. */
export function colorFor(userId: string): string {
  let h = 2166136261
  for (let i = 0; i < userId.length; i++) h = Math.imul(h ^ userId.charCodeAt(i), 16777619)
  return PARTICIPANT_COLORS[(h >>> 0) % PARTICIPANT_COLORS.length]!
}
