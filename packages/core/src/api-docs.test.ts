/**
 * docs/api.md and api.ts describe the same response bodies: every field a schema has is on the
 * page for its route, and every field on the page is in the schema (optional ones marked `?` on
 * both sides), down into nested objects and lists the page spells out.
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import * as api from './api.js'

const page = readFileSync(new URL('../../../docs/api.md', import.meta.url), 'utf8')

/** Which schema is the body each route's row shows (its last `{…}` code span). */
const ROUTES: Record<string, api.ApiSchema> = {
  'POST /v1/sessions': api.SessionEntrySchema,
  'GET /v1/sessions?limit&after': api.SessionListSchema,
  'GET /v1/sessions/:sid': api.SessionViewSchema,
  'GET /v1/sessions/:sid/document': api.DocumentTextSchema,
  'GET /v1/sessions/:sid/participants': api.ParticipantListSchema,
  'GET /v1/sessions/:sid/chat?before&limit': api.ChatPageSchema,
  'POST /v1/sessions/:sid/invitations': api.BulkInvitationSchema,
  'GET …/invitations': api.InvitationListSchema,
  'GET /v1/invitations/:token': api.InvitationInfoSchema,
  'POST /v1/invitations/:token/accept': api.InvitationAcceptedSchema,
  'POST /v1/invitations/:token/decline': api.InvitationDeclinedSchema,
  'GET …/snapshots': api.SnapshotListSchema,
  'POST …/snapshots/:id/restore': api.SnapshotRestoredSchema,
  'POST /v1/sessions/:sid/runs': api.RunQueuedSchema,
  'GET …/runs?limit=': api.VerifiedRunListSchema,
  'GET /v1/sessions/:sid/hidden-files': api.HiddenFileListSchema,
  'GET …/hidden-files/:name': api.HiddenFileSchema,
  'PUT …/hidden-files/:name': api.HiddenFileInfoSchema,
  'GET …/recordings': api.RecordingListSchema,
  'POST /v1/sessions/:sid/recording-consent': api.RecordingConsentSchema,
  'GET /v1/sessions/:sid/analytics?range=1h|24h|all&anonymize=': api.AnalyticsResponseSchema,
  'GET …/analytics/me?range=': api.OwnActivitySchema,
  'GET /v1/sessions/:sid/audit?limit&before': api.AuditListSchema,
  'GET /v1/audit?sessionId&assignmentId&actorId&targetId&action&from&to&limit&before': api.AuditListSchema,
  'POST /v1/tokens/refresh': api.TokenRefreshedSchema,
  'POST /v1/assignments': api.AssignmentSchema,
  'GET /v1/assignments?limit&after': api.AssignmentListSchema,
  'GET /v1/assignments/:aid': api.AssignmentSchema,
  'POST /v1/assignments/:aid/open': api.AssignmentOpenedSchema,
  'GET /v1/assignments/:aid/rooms': api.AssignmentRoomListSchema,
  'POST /v1/assignments/:aid/rooms/:userId/open': api.AssignmentOpenedSchema,
  'POST /v1/assignments/:aid/submit': api.AssignmentSubmittedSchema,
  'POST /v1/assignments/:aid/roster': api.RosterPulledSchema,
  'POST /v1/sessions/:sid/roster': api.RosterPulledSchema,
  'GET /v1/assignments/:aid/updates': api.AssignmentUpdateListSchema,
  'GET /v1/assignments/:aid/analytics?anonymize=': api.AssignmentAnalyticsSchema,
  'POST /v1/webhooks': api.WebhookCreatedSchema,
  'GET /v1/webhooks': api.WebhookListSchema,
  'DELETE /v1/users/:userId?email=': api.UserErasedSchema,
  'GET /v1/users/:userId/export?email=': api.UserExportSchema,
  'GET /v1/retention': api.RetentionStatusSchema,
}

// ---- the page ---------------------------------------------------------------------------------

/** The table's rows: the route (its first code span) → the "what" cell. */
function rows(markdown: string): Map<string, string> {
  const out = new Map<string, string>()
  for (const line of markdown.split('\n')) {
    if (!line.startsWith('| `')) continue
    const cells = line.split(/(?<!\\)\|/).map((c) => c.trim().replaceAll('\\|', '|'))
    const route = /`([^`]+)`/.exec(cells[1] ?? '')?.[1]
    if (route) out.set(route, cells.slice(3).join('|'))
  }
  return out
}

interface DocField {
  optional: boolean
  /** The fields of an object (or of a list's objects) the page spells out. */
  fields?: DocFields
}
type DocFields = Map<string, DocField>

/** `{a, b?, c: {d}, e: [{f}], g: x | y}` as fields; a field written as `…` fails the check (the page must be complete). */
function parseFields(text: string): DocFields {
  let i = 0
  const space = () => {
    while (/\s/.test(text[i] ?? '')) i++
  }
  const expect = (c: string) => {
    space()
    if (text[i] !== c) throw new Error(`expected "${c}" at ${i} in ${text}`)
    i++
  }
  /** Skip a value the check does not look into: up to the next `,` or closing bracket at its own depth. */
  const skipValue = () => {
    let depth = 0
    for (; i < text.length; i++) {
      const c = text[i]!
      if (c === '"') i = text.indexOf('"', i + 1)
      else if (c === '{' || c === '[') depth++
      else if (c === '}' || c === ']') {
        if (!depth) return
        depth--
      } else if (c === ',' && !depth) return
    }
  }
  const object = (): DocFields => {
    const fields: DocFields = new Map()
    expect('{')
    for (;;) {
      space()
      if (text[i] === '}') break
      const name = /^[^\s:,}]+/.exec(text.slice(i))![0]
      i += name.length
      if (name.includes('…') || name.includes('...')) throw new Error(`the page leaves fields out ("${name}") in ${text}`)
      const field: DocField = { optional: name.endsWith('?') }
      space()
      if (text[i] === ':') {
        i++
        space()
        if (text[i] === '{') field.fields = object()
        else if (text[i] === '[' && text.slice(i + 1).trimStart().startsWith('{')) {
          expect('[')
          field.fields = object()
          skipValue()
          expect(']')
        } else skipValue()
      }
      fields.set(name.replace(/\?$/, ''), field)
      space()
      if (text[i] === ',') i++
    }
    expect('}')
    return fields
  }
  return object()
}

/** The body a row shows: its last code span that is an object. */
function documentedBody(what: string): DocFields {
  const spans = [...what.matchAll(/`(\{[^`]*\})`/g)].map((m) => m[1]!)
  assert.ok(spans.length, `no {…} body in: ${what}`)
  return parseFields(spans.at(-1)!)
}

// ---- the schemas ------------------------------------------------------------------------------

interface SchemaNode {
  type: string
  wrapped?: SchemaNode
  item?: SchemaNode
  entries?: Record<string, SchemaNode>
}

/** Through optional and nullable to the schema that says what the value is. */
function unwrap(schema: SchemaNode): { optional: boolean; inner: SchemaNode } {
  let optional = false
  let inner = schema
  for (;;) {
    if (inner.type === 'optional' || inner.type === 'exact_optional') optional = true
    else if (inner.type !== 'nullable' && inner.type !== 'nullish') break
    inner = inner.wrapped!
  }
  return { optional, inner }
}

/** The object entries under a schema (an object's, or a list's items'), if it has any. */
function entriesOf(schema: SchemaNode): Record<string, SchemaNode> | undefined {
  const { inner } = unwrap(schema)
  if (inner.type === 'array') return entriesOf(inner.item!)
  return inner.type === 'object' || inner.type === 'loose_object' || inner.type === 'strict_object' ? inner.entries : undefined
}

/** Every disagreement between a schema and the page's fields, as sentences naming the field. */
function compare(schema: SchemaNode, doc: DocFields, at = ''): string[] {
  const entries = entriesOf(schema) ?? {}
  const problems: string[] = []
  for (const [name, entry] of Object.entries(entries)) {
    const path = at + name
    const d = doc.get(name)
    if (!d) {
      problems.push(`${path} is in the schema but not on the page`)
      continue
    }
    if (unwrap(entry).optional !== d.optional) problems.push(`${path} is ${unwrap(entry).optional ? '' : 'not '}optional in the schema but ${d.optional ? '' : 'not '}marked "?" on the page`)
    if (d.fields) {
      if (entriesOf(entry)) problems.push(...compare(entry, d.fields, `${path}.`))
      else if (unwrap(entry).inner.type !== 'record') problems.push(`${path} has fields on the page but is not an object in the schema`)
    }
  }
  for (const name of doc.keys()) if (!(name in entries)) problems.push(`${at}${name} is on the page but not in the schema`)
  return problems
}

describe('docs/api.md agrees with the response schemas', () => {
  const table = rows(page)

  for (const [route, schema] of Object.entries(ROUTES)) {
    it(route, () => {
      const what = table.get(route)
      assert.ok(what !== undefined, `docs/api.md has no row for ${route}`)
      assert.deepEqual(compare(schema as unknown as SchemaNode, documentedBody(what)), [])
    })
  }

  it('the error body shown at the top is one the elements read', () => {
    const sample = /```json\n([^`]+)```/.exec(page)?.[1]
    assert.ok(sample, 'the page shows an error body')
    assert.equal(api.parseApi(api.ErrorBodySchema, JSON.parse(sample)).error.code, 'forbidden')
  })

  it('the check itself notices a field missing on either side', () => {
    assert.deepEqual(compare(api.TokenRefreshedSchema as unknown as SchemaNode, parseFields('{token, sessionId, expiresAt}')), [
      'role is in the schema but not on the page',
      'expiresAt is on the page but not in the schema',
    ])
    assert.deepEqual(compare(api.RecordingListSchema as unknown as SchemaNode, parseFields('{recordings: [{id, title, description, isPublic, status, createdBy, creatorName, startedAt, stoppedAt, durationSeconds, durationMs, spans: [{from}], error, policy, consented: [{userId, name}]}]}')), [
      'recordings.spans.to is in the schema but not on the page',
    ])
    assert.deepEqual(compare(api.BulkInvitationSchema as unknown as SchemaNode, parseFields('{results: [{email, result, message, invitation?}]}')), [
      'results.message is optional in the schema but not marked "?" on the page',
    ])
    assert.throws(() => parseFields('{id, email, …}'), /leaves fields out/)
  })
})
