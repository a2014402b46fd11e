import { Role, roleFromLti, type RosterPulled } from '@session-kit/core'
import { AppError } from '../errors.js'
import type { Services } from '../http/context.js'
import { getPlatform, upsertMembers, type LinkRow, type MemberRow, type PlatformRow } from '../store/lti.js'
import { ltiUserId } from './launch.js'
import { lmsWords, LtiServiceError, SCOPE, type ServiceTokens } from './service-token.js'

/** NRPS 2.0's media type (Accept of a membership request). */
export const MEMBERSHIP_MEDIA = 'application/vnd.ims.lti-nrps.v2.membershipcontainer+json'

/** The course roles a roster may be filtered by, and the role URI the LMS is asked for. */
export const ROSTER_ROLES = {
  Learner: 'http://purl.imsglobal.org/vocab/lis/v2/membership#Learner',
  Instructor: 'http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor',
  TeachingAssistant: 'http://purl.imsglobal.org/vocab/lis/v2/membership/Instructor#TeachingAssistant',
  ContentDeveloper: 'http://purl.imsglobal.org/vocab/lis/v2/membership#ContentDeveloper',
  Mentor: 'http://purl.imsglobal.org/vocab/lis/v2/membership#Mentor',
} as const
export type RosterRole = keyof typeof ROSTER_ROLES

/** Bounds of one pull: a course larger than this is cut there (and said so in the log). */
export const ROSTER_LIMITS = { pages: 50, members: 10_000, pageSize: 1000, pageBytes: 8 * 1024 * 1024 }

export const noRoster = (what: string) =>
  new AppError(409, 'lti_no_roster', `This ${what} was not launched from an LMS that offers its course roster (LTI Names and Role Provisioning): launch it from the course once, or ask the LMS administrator to allow the tool the course's roster.`)

/**
 * Pull the course rosters of these links (a session or an assignment may be linked from several
 * courses) and keep their people as course members. Each course is pulled once, whatever number
 * of links point into it. Throws `lti_no_roster` (409) when none offers a roster.
 */
export async function pullRosters(services: Pick<Services, 'db' | 'ltiTokens' | 'clock' | 'log'>, links: LinkRow[], what: string, opts: { role?: RosterRole; limits?: Partial<typeof ROSTER_LIMITS> } = {}): Promise<RosterPulled> {
  const courses = new Map<string, LinkRow>()
  for (const l of links) if (l.nrpsUrl && l.contextId && !courses.has(`${l.platformId}\n${l.contextId}`)) courses.set(`${l.platformId}\n${l.contextId}`, l)
  if (!courses.size) throw noRoster(what)
  const total = { members: 0, learners: 0 }
  for (const link of courses.values()) {
    const platform = await getPlatform(services.db.sql, link.platformId)
    if (!platform) continue
    const got = await pullRoster(services, platform, link, opts)
    total.members += got.members
    total.learners += got.learners
  }
  const at = services.clock()
  // Every link into a course pulled now shows the time (the overview says how fresh its roster is).
  for (const link of courses.values()) {
    await services.db.sql`update lti_links set roster_pulled_at = ${at} where platform_id = ${link.platformId} and context_id = ${link.contextId!} and nrps_url is not null`
  }
  return { ...total, pulledAt: at.toISOString() }
}

/**
 * One course's roster from its NRPS endpoint, every page (`Link: <…>; rel="next"`, on the same
 * host only: the page carries our token), stored as course members. Members the answer leaves out
 * are kept as they are: a filtered pull (learners only) says nothing about the others.
 */
export async function pullRoster(
  services: Pick<Services, 'db' | 'ltiTokens' | 'log'>,
  platform: PlatformRow,
  link: Pick<LinkRow, 'nrpsUrl' | 'contextId'>,
  opts: { role?: RosterRole; limits?: Partial<typeof ROSTER_LIMITS> } = {},
): Promise<{ members: number; learners: number; complete: boolean }> {
  const limits = { ...ROSTER_LIMITS, ...opts.limits }
  const first = new URL(link.nrpsUrl!)
  if (opts.role) first.searchParams.set('role', ROSTER_ROLES[opts.role])
  if (!first.searchParams.has('limit')) first.searchParams.set('limit', String(limits.pageSize))
  const bySub = new Map<string, Omit<MemberRow, 'updatedAt'>>()
  let url: string | undefined = first.href
  let pages = 0
  let complete = true
  while (url) {
    if (pages >= limits.pages || bySub.size >= limits.members) {
      complete = false
      services.log(`lti: the roster of course ${link.contextId} on ${platform.id} is longer than ${limits.pages} pages or ${limits.members} people: the rest was left out`)
      break
    }
    pages++
    const page = await fetchPage(services.ltiTokens, platform, url, limits.pageBytes)
    for (const m of page.members) {
      if (bySub.size >= limits.members) break
      const member = memberOf(platform, link.contextId!, m)
      if (member) bySub.set(member.ltiSub, member)
    }
    url = page.next && sameOrigin(page.next, first) ? page.next : undefined
  }
  const members = [...bySub.values()]
  // A few hundred rows a statement: well inside PostgreSQL's limit of parameters.
  for (let i = 0; i < members.length; i += 500) await upsertMembers(services.db.sql, members.slice(i, i + 500))
  return { members: members.length, learners: members.filter((m) => m.role === Role.Learner).length, complete }
}

async function fetchPage(tokens: ServiceTokens, platform: PlatformRow, url: string, maxBytes: number): Promise<{ members: unknown[]; next?: string }> {
  const answer = await tokens.call(platform, [SCOPE.memberships], url, { method: 'GET', headers: { accept: MEMBERSHIP_MEDIA } }, { maxBytes, what: 'course roster' })
  if (answer.status < 200 || answer.status > 299) throw new LtiServiceError(`The LMS did not give the course roster (HTTP ${answer.status}: ${lmsWords(answer)}).`, answer.status)
  let json: { members?: unknown }
  try {
    json = JSON.parse(answer.text)
  } catch {
    throw new LtiServiceError('The LMS answered the roster request with something that is not JSON.', answer.status)
  }
  if (!json || !Array.isArray(json.members)) throw new LtiServiceError('The LMS answered the roster request without a list of members.', answer.status)
  return { members: json.members, next: nextLink(answer.headers.get('link')) }
}

/** The `rel="next"` target of a Link header (RFC 8288), if any. */
export function nextLink(header: string | null): string | undefined {
  if (!header) return undefined
  for (const m of header.matchAll(/<([^>]*)>((?:\s*;\s*[^;,]+)*)/g)) {
    const rels = /;\s*rel\s*=\s*"?([^";,]+)"?/i.exec(m[2] ?? '')?.[1]?.toLowerCase().split(/\s+/) ?? []
    if (rels.includes('next')) return m[1]
  }
  return undefined
}

function sameOrigin(next: string, first: URL): boolean {
  try {
    return new URL(next, first).origin === first.origin
  } catch {
    return false
  }
}

const CONTROL = /[\u0000-\u001f\u007f\u202a-\u202e\u2066-\u2069]/g
const text = (x: unknown) => (typeof x === 'string' && x.trim() ? x.trim() : undefined)

/** A member of an NRPS answer as a course member row; undefined for an entry that names nobody usable. */
function memberOf(platform: PlatformRow, contextId: string, m: unknown): Omit<MemberRow, 'updatedAt'> | undefined {
  if (!m || typeof m !== 'object') return undefined
  const x = m as Record<string, unknown>
  const sub = text(x.user_id)
  if (!sub) return undefined
  const userId = ltiUserId(platform.id, sub)
  if (userId.length > 200) return undefined
  const roles = Array.isArray(x.roles) ? x.roles.filter((r): r is string => typeof r === 'string') : []
  const role = roleFromLti(roles)
  const given = [text(x.given_name), text(x.family_name)].filter(Boolean).join(' ')
  const name = (text(x.name) ?? given).replace(CONTROL, '').trim().slice(0, 100)
  const email = text(x.email)
  const picture = text(x.picture)
  return {
    platformId: platform.id,
    contextId,
    ltiSub: sub,
    userId,
    name,
    email: email && /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email) && email.length <= 320 ? email : null,
    picture: picture && /^https:\/\//.test(picture) && picture.length <= 2000 ? picture : null,
    role: role.role,
    testUser: role.testUser,
    // NRPS says Active, Inactive or (in a differences answer) Deleted: someone no longer in the course is inactive here.
    status: x.status === undefined || x.status === 'Active' ? 'Active' : 'Inactive',
    source: 'roster',
  }
}
