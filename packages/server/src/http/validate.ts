import type { Context } from 'hono'
import * as v from 'valibot'
import type { AppError } from '../errors.js'
import { badRequest } from './errors.js'

/** Read and validate a JSON body; a person gets one clear sentence about what is wrong. */
export async function body<S extends v.GenericSchema>(c: Context, schema: S): Promise<v.InferOutput<S>> {
  let json: unknown
  try {
    const text = await c.req.text()
    json = text ? JSON.parse(text) : {}
  } catch {
    throw badRequest('The request body is not valid JSON.', 'invalid_json')
  }
  const nul = nulAt(json)
  if (nul) {
    const path = nul.join('.')
    throw badRequest(`${path ? `${path}: ` : ''}text cannot contain the NUL character (U+0000).`, 'validation_failed', { field: path || null })
  }
  return parse(schema, json)
}

/** Where a string (or a key) holds U+0000, which PostgreSQL text cannot store. Walks without recursion: bodies can nest deeply. */
function nulAt(json: unknown): string[] | undefined {
  const stack: [unknown, string[]][] = [[json, []]]
  while (stack.length) {
    const [value, path] = stack.pop()!
    if (typeof value === 'string') {
      if (value.includes('\u0000')) return path
    } else if (value && typeof value === 'object') {
      for (const [key, child] of Object.entries(value)) {
        if (key.includes('\u0000')) return [...path, key.replaceAll('\u0000', '\\u0000')]
        stack.push([child, [...path, key]])
      }
    }
  }
  return undefined
}

export function parse<S extends v.GenericSchema>(schema: S, input: unknown): v.InferOutput<S> {
  const r = v.safeParse(schema, input)
  if (!r.success) {
    const issue = r.issues[0]
    const path = issue.path?.map((p) => String(p.key)).join('.')
    throw badRequest(path ? `${path}: ${issue.message}` : issue.message, 'validation_failed', { field: path ?? null })
  }
  return r.output
}

/**
 * A whole number as a query string or a path carries it: plain digits ("12"; not "1e3", "0x10",
 * "1.0", "-1", " 1" or ""), from `min` to `max`. The top is at most 2^53 − 1, which a JS number
 * holds exactly and every bigint column can store — so the database never sees a number it refuses.
 */
export function wholeNumber(name: string, { min = 0, max = Number.MAX_SAFE_INTEGER }: { min?: number; max?: number } = {}) {
  const range = `${name} must be a whole number from ${min} to ${max}`
  return v.pipe(
    v.string(range),
    v.regex(/^\d{1,16}$/, `${range}, written in digits`),
    v.transform(Number),
    v.minValue(min, range),
    v.maxValue(max, range),
  )
}

/** The id of a row the database numbers (chat messages): a whole number from 1. */
export const RowIdSchema = wholeNumber('id', { min: 1 })

/** An id the server made (snapshots, recordings, invitations: UUIDs): text without control characters, at most 200 long. */
export const KeySchema = v.pipe(v.string(), v.regex(/^[^\u0000-\u001f\u007f]{1,200}$/))

/**
 * A path parameter naming one thing. One that cannot exist (not a number, out of range, a control
 * character) is answered like one that does not: `missing()`, a 404.
 */
export function pathParam<S extends v.GenericSchema<string, unknown>>(c: Context, name: string, schema: S, missing: () => AppError): v.InferOutput<S> {
  const r = v.safeParse(schema, c.req.param(name))
  if (!r.success) throw missing()
  return r.output
}
