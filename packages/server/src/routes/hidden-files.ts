import { Hono, type Context } from 'hono'
import * as v from 'valibot'
import { FILE_NAME_PATTERN, isTestFile, Rule, type HiddenFile, type HiddenFileInfo, type HiddenFileList } from '@session-kit/core'
import { requirePermission, roomAuth } from '../http/auth.js'
import type { AppEnv } from '../http/context.js'
import { badRequest, conflict, notFound } from '../http/errors.js'
import { body, pathParam } from '../http/validate.js'
import { AppError } from '../errors.js'
import { deleteHiddenFile, getHiddenFile, listHiddenFiles, putHiddenFile } from '../store/hidden-files.js'

/** A hidden test file's largest size, in bytes (UTF-8). */
export const MAX_HIDDEN_FILE_BYTES = 256 * 1024
/** Hidden test files one session may hold. */
export const MAX_HIDDEN_FILES = 20

const TextBody = v.object({ text: v.string('text must be the file’s text') })

/**
 * Why `name` cannot be a hidden test file's name, or null: a document file name (no control
 * characters or backslashes, no "/" at either end), without `.`/`..` or empty folders, that names
 * a test file.
 */
function nameProblem(name: string): string | null {
  if (name.startsWith('/') || name.endsWith('/')) return 'a file name cannot start or end with "/"'
  if (!FILE_NAME_PATTERN.test(name)) return 'a file name is 1–200 characters without control characters or backslashes'
  if (name.split('/').some((part) => part === '' || part === '.' || part === '..')) return 'a file name cannot contain "." or ".." folders or empty ones'
  if (!isTestFile(name)) return `"${name}" is not a test file: name hidden tests like test_main.py or main_test.py (Python), main.test.js or main.spec.ts (JavaScript, TypeScript)`
  return null
}

const HiddenName = v.pipe(
  v.string(),
  v.check((name) => nameProblem(name) === null),
)

const missing = () => notFound('There is no hidden test file by that name in this session.', 'hidden_file_not_found')

const info = (r: { name: string; size: number; updatedAt: Date }): HiddenFileInfo => ({ name: r.name, size: r.size, updatedAt: r.updatedAt.toISOString() })

/** The file's text from the body: `text/plain` (the text itself) or JSON `{text}`. */
async function fileText(c: Context<AppEnv>): Promise<string> {
  const type = (c.req.header('content-type') ?? '').split(';')[0]!.trim().toLowerCase()
  let text: string
  if (type === 'application/json' || type.endsWith('+json')) text = (await body(c, TextBody)).text
  else if (type === 'text/plain' || type === '') {
    text = await c.req.text()
    if (text.includes('\u0000')) throw badRequest('text cannot contain the NUL character (U+0000).', 'validation_failed', { field: 'text' })
  } else throw badRequest(`Send the file's text as text/plain, or as JSON {"text": "…"}; not ${type}.`, 'unsupported_body')
  const bytes = Buffer.byteLength(text, 'utf8')
  if (bytes > MAX_HIDDEN_FILE_BYTES) throw new AppError(413, 'too_large', `A hidden test file is at most 256 KB; this one is ${Math.ceil(bytes / 1024)} KB.`)
  return text
}

/**
 * Hidden test files (instructors): kept beside the document, never in it. They run only in the
 * server's verified runs; learners see their tests as "Hidden test 1: passed".
 */
export function hiddenFileRoutes() {
  const r = new Hono<AppEnv>()

  r.get('/:sid/hidden-files', roomAuth, requirePermission(Rule.MANAGE_FILES), async (c) => {
    const rows = await listHiddenFiles(c.var.services.db.sql, c.var.caller.session.id)
    c.header('cache-control', 'no-store')
    return c.json({ files: rows.map(info) } satisfies HiddenFileList)
  })

  r.get('/:sid/hidden-files/:name', roomAuth, requirePermission(Rule.MANAGE_FILES), async (c) => {
    const row = await getHiddenFile(c.var.services.db.sql, c.var.caller.session.id, pathParam(c, 'name', HiddenName, missing))
    if (!row) throw missing()
    c.header('cache-control', 'no-store')
    return c.json({ ...info(row), text: row.text } satisfies HiddenFile)
  })

  r.put('/:sid/hidden-files/:name', roomAuth, requirePermission(Rule.MANAGE_FILES), async (c) => {
    const name = c.req.param('name')
    const problem = nameProblem(name)
    if (problem) throw badRequest(`name: ${problem}.`, 'validation_failed', { field: 'name' })
    const text = await fileText(c)
    const { caller, services } = c.var
    const sql = services.db.sql
    const existing = await listHiddenFiles(sql, caller.session.id)
    if (existing.length >= MAX_HIDDEN_FILES && !existing.some((f) => f.name === name)) {
      throw conflict(`A session holds at most ${MAX_HIDDEN_FILES} hidden test files; delete one first.`, 'too_many_files')
    }
    const { row, created } = await putHiddenFile(sql, caller.session.id, name, text, caller.claims.sub)
    return c.json(info(row), created ? 201 : 200)
  })

  r.delete('/:sid/hidden-files/:name', roomAuth, requirePermission(Rule.MANAGE_FILES), async (c) => {
    const name = pathParam(c, 'name', HiddenName, missing)
    if (!(await deleteHiddenFile(c.var.services.db.sql, c.var.caller.session.id, name))) throw missing()
    return c.body(null, 204)
  })

  return r
}

/** Why a name cannot be a hidden test file's (assignments hold hidden tests too), or null. */
export { nameProblem as hiddenNameProblem }
