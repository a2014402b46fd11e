import type { Context } from 'hono'
import * as v from 'valibot'
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
  return parse(schema, json)
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
