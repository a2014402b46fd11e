import { createHash } from 'node:crypto'
import { LANGUAGES, SERVER_ISSUER, type Language, type Role } from '@session-kit/core'
import { mintGuestToken, mintToken } from '../auth/tokens.js'
import type { Services } from '../http/context.js'
import { getAssignment } from '../store/assignments.js'
import { assignmentAllowedFor, getLink, upsertLink, upsertMembers, type LinkRow } from '../store/lti.js'
import { createSession, getSession } from '../store/sessions.js'
import { LaunchError, type Launch } from './launch.js'

/** Custom parameters a resource link may carry (set by Deep Linking, or by a teacher in the LMS). */
export const CUSTOM = {
  assignment: 'session_kit_assignment',
  language: 'session_kit_language',
} as const

/** What a launch opens, with the token the page holds. */
export type Opened =
  | { kind: 'room'; sessionId: string; title: string; role: Role; token: string; link: LinkRow }
  | { kind: 'assignment'; assignmentId: string; title: string; role: Role; token: string; link: LinkRow }

/** How long the page's token lasts; room tokens are renewed by the page (POST /v1/tokens/refresh). */
const ROOM_TOKEN_TTL = '2h'
/** An assignment token is not renewed by the page: it lasts a school day (the learner's room token inside it is renewed). */
const ASSIGNMENT_TOKEN_TTL = '12h'

/** The session a resource link opens: the same id for the same link of the same deployment, every time. */
export function roomIdOf(platformId: string, deploymentId: string, resourceLinkId: string): string {
  return 'lti-' + createHash('sha256').update(`${platformId}\n${deploymentId}\n${resourceLinkId}`).digest('hex').slice(0, 24)
}

/**
 * Open what a resource-link launch points at. The first launch of a link fixes what it opens: the
 * assignment named by its custom parameter (one this platform made or opened before), otherwise a
 * live room created now with the activity's (or course's) title. The first instructor who may own
 * a session (not an assistant) and launches it owns it. The person becomes a course member (their
 * LMS name, email and picture), and the link keeps the course's roster and gradebook endpoints.
 */
export async function openLaunch(services: Services, launch: Launch): Promise<Opened> {
  const { db, config } = services
  const sql = db.sql
  const resourceLinkId = launch.resourceLink!.id
  let link = await getLink(sql, launch.platformId, launch.deploymentId, resourceLinkId)
  const title = (launch.resourceLink?.title ?? launch.context?.title ?? 'Live room').slice(0, 200)
  let kind: LinkRow['kind'] = link?.kind ?? 'room'
  let assignmentId = link?.assignmentId ?? null
  let sessionId = link?.sessionId ?? null
  if (!link) {
    const named = launch.custom[CUSTOM.assignment]
    if (named) {
      if (!(await getAssignment(sql, named)) || !(await assignmentAllowedFor(sql, named, launch.platformId))) {
        throw new LaunchError(404, 'lti_assignment_not_found', `This activity opens the assignment "${named}", which does not exist for this LMS. An instructor can add the activity again (Deep Linking).`)
      }
      kind = 'assignment'
      assignmentId = named
    } else {
      sessionId = roomIdOf(launch.platformId, launch.deploymentId, resourceLinkId)
    }
  }
  link = await upsertLink(sql, {
    platformId: launch.platformId,
    deploymentId: launch.deploymentId,
    resourceLinkId,
    kind,
    sessionId,
    assignmentId,
    contextId: launch.context?.id ?? null,
    contextTitle: launch.context?.title ?? null,
    title,
    nrpsUrl: launch.nrpsUrl ?? null,
    agsLineitems: launch.ags?.lineitems ?? null,
    agsLineitem: launch.ags?.lineitem ?? null,
    agsScopes: launch.ags?.scopes ?? [],
  })
  if (launch.context) {
    await upsertMembers(sql, [
      {
        platformId: launch.platformId,
        contextId: launch.context.id,
        ltiSub: launch.sub,
        userId: launch.userId,
        name: launch.name,
        email: launch.email ?? null,
        picture: launch.picture ?? null,
        role: launch.role.role,
        testUser: launch.role.testUser,
        status: 'Active',
        source: 'launch',
      },
    ])
  }
  const person = {
    sub: launch.userId,
    name: launch.name,
    role: launch.role.role,
    ...(launch.email ? { email: launch.email } : {}),
    ...(launch.picture ? { avatar: launch.picture } : {}),
    ...(launch.role.testUser ? { test: true } : {}),
  }

  if (link.kind === 'assignment') {
    const a = await getAssignment(sql, link.assignmentId!)
    if (!a) throw new LaunchError(404, 'lti_assignment_not_found', 'The assignment this activity opened has been deleted. An instructor can add the activity again.')
    // Instructors who may own it and find it without an owner (made by an assistant) take it.
    if (launch.role.mayOwn && a.ownerId === '') await sql`update assignments set owner_id = ${launch.userId}, updated_at = now() where id = ${a.id} and owner_id = ''`
    const token = await mintToken({ ...person, assignment: a.id, iss: SERVER_ISSUER }, config.secret, { ttl: ASSIGNMENT_TOKEN_TTL })
    return { kind: 'assignment', assignmentId: a.id, title: a.title, role: person.role, token, link }
  }

  const sid = link.sessionId!
  const language = pickLanguage(launch.custom[CUSTOM.language])
  let session = await getSession(sql, sid)
  if (!session) {
    ;({ session } = await createSession(sql, { id: sid, title: link.title || title, language, ownerId: launch.role.mayOwn ? launch.userId : '' }))
  } else if (launch.role.mayOwn && session.ownerId === '') {
    await sql`update sessions set owner_id = ${launch.userId}, updated_at = now() where id = ${sid} and owner_id = ''`
    session = (await getSession(sql, sid))!
  }
  const token = await mintGuestToken({ ...person, sid }, session, config.secret, ROOM_TOKEN_TTL)
  return { kind: 'room', sessionId: sid, title: session.title, role: person.role, token, link }
}

function pickLanguage(given: string | undefined): Language {
  return (LANGUAGES as readonly string[]).includes(given ?? '') ? (given as Language) : 'python'
}
