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

/** Characters that are never part of a name a person reads: C0 and C1 controls (line breaks, tabs, escapes). */
const CONTROL = /\p{Cc}/u
/** Embeddings, overrides and isolates: they reorder the text that follows them (the marks U+200E/F are allowed). */
const DIRECTION = /[\u202a-\u202e\u2066-\u2069]/u
/** Characters that draw nothing or have no agreed meaning: zero-width spaces, soft hyphens, fillers, private use, lone surrogates. */
const INVISIBLE = /[\p{Default_Ignorable_Code_Point}\p{Co}\p{Cs}\p{Noncharacter_Code_Point}]/u
/**
 * …except those that real names and emoji need: the zero-width (non-)joiner of Persian, Indic
 * scripts and emoji sequences, the direction marks, the combining grapheme joiner, Mongolian
 * variation selectors, variation selectors (emoji presentation) and tags (subdivision flags).
 */
const NEEDED_INVISIBLE = /[\u034f\u061c\u180b-\u180f\u200c-\u200f\ufe00-\ufe0f\u{e0020}-\u{e007f}\u{e0100}-\u{e01ef}]/u
/** What remains of a name once spaces, invisible characters and combining marks are gone must not be empty. */
const NOT_SEEN = /[\p{White_Space}\p{Default_Ignorable_Code_Point}\p{M}\u2800]/gu

const codePoint = (c: string) => 'U+' + c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')

/** Why a person's name cannot be shown in a room and its exports, or undefined when it can. */
export function personNameProblem(name: string): string | undefined {
  const control = CONTROL.exec(name)
  if (control) return `a name cannot contain control characters such as line breaks or tabs (found ${codePoint(control[0])})`
  const direction = DIRECTION.exec(name)
  if (direction) return `a name cannot contain text-direction controls, which make the text around them display out of order (found ${codePoint(direction[0])})`
  for (const c of name) {
    if (INVISIBLE.test(c) && !NEEDED_INVISIBLE.test(c)) return `a name cannot contain invisible or private-use characters (found ${codePoint(c)})`
  }
  if (!name.replace(NOT_SEEN, '')) return 'a name needs at least one visible letter, digit or sign'
  return undefined
}

/**
 * A person's display name, as shown to everyone in the room and in exports: the `name` claim of
 * room tokens and the name a guest gives when accepting an invitation. Any script is fine; control
 * characters, text-direction overrides, invisible junk and names with nothing visible are not.
 */
export const PersonNameSchema = v.pipe(
  v.string('name must be text'),
  v.trim(),
  v.minLength(1, 'a name must not be empty'),
  v.maxLength(200, 'a name is at most 200 characters'),
  v.check((name) => personNameProblem(name) === undefined, (issue) => personNameProblem(issue.input as string) ?? 'this name cannot be shown'),
)

export const LANGUAGES = ['javascript', 'typescript', 'python', 'html', 'css'] as const
export type Language = (typeof LANGUAGES)[number]
export const LanguageSchema = /* @__PURE__ */ v.picklist(LANGUAGES, `language must be one of ${/* @__PURE__ */ LANGUAGES.join(', ')}`)

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
