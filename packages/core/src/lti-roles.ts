import { Role } from './roles.js'

/**
 * The Session Kit role of someone an LMS sends over LTI 1.3 (the `roles` claim of a launch), by
 * least privilege. Only course-level roles (`…/lis/v2/membership#…`) describe this course:
 * Canvas sends a user's institution roles (`…/institution/person#Instructor`) in every course
 * they have, and Moodle adds system roles for site administrators — those alone grant nothing.
 *
 * | course role | Session Kit |
 * | --- | --- |
 * | `Instructor#TeachingAssistant` (sub-role; Canvas sends it beside `Instructor`) | instructor, who does not own the session |
 * | `Instructor`, `ContentDeveloper` | instructor (the first to launch a resource may own its session) |
 * | `Learner` | learner |
 * | `Mentor` | observer |
 * | anything else, or nothing | observer |
 *
 * `…/lti/system/person#TestUser` (an LMS's "student view") is a learner marked as a test user
 * (left out of analytics by default). The short names of LTI 1.1 (`Instructor`,
 * `urn:lti:role:ims/lis/Learner`, `TeachingAssistant`…) are read the same way.
 */
export interface LtiRole {
  role: Role
  /** Whether this person may own the session of a resource they launch first (instructors, not assistants). */
  mayOwn: boolean
  /** An LMS's "student view" (`TestUser`): a learner, left out of analytics by default. */
  testUser: boolean
  /** The course role the decision rests on (as sent), or null when none was recognised. */
  because: string | null
}

const MEMBERSHIP = 'http://purl.imsglobal.org/vocab/lis/v2/membership'
const TEST_USER = 'http://purl.imsglobal.org/vocab/lti/system/person#TestUser'
const LEGACY = 'urn:lti:role:ims/lis/'

type Course = 'TeachingAssistant' | 'Instructor' | 'ContentDeveloper' | 'Learner' | 'Mentor'

/** The course role a `roles` entry names, or null for institution, system and unknown roles. */
function courseRole(entry: string): Course | null {
  let name: string
  if (entry.startsWith(MEMBERSHIP + '#')) name = entry.slice(MEMBERSHIP.length + 1)
  else if (entry.startsWith(MEMBERSHIP + '/')) name = entry.slice(MEMBERSHIP.length + 1) // a sub-role: Instructor#TeachingAssistant
  else if (entry.startsWith(LEGACY)) name = entry.slice(LEGACY.length) // LTI 1.1: urn:lti:role:ims/lis/Instructor/TeachingAssistant
  else if (!entry.includes(':')) name = entry // a short name
  else return null
  if (/(^|[#/])TeachingAssistant$/.test(name)) return 'TeachingAssistant'
  if (name.includes('#') || name.includes('/')) return null // another sub-role: decided by its principal role, sent beside it
  return (['Instructor', 'ContentDeveloper', 'Learner', 'Mentor'] as const).find((r) => r === name) ?? null
}

/** Decide in this order: an assistant before an instructor (Canvas sends a TA both), then down the table. */
const ORDER: readonly [Course, Role, boolean][] = [
  ['TeachingAssistant', Role.Instructor, false],
  ['Instructor', Role.Instructor, true],
  ['ContentDeveloper', Role.Instructor, true],
  ['Learner', Role.Learner, false],
  ['Mentor', Role.Observer, false],
]

export function roleFromLti(roles: readonly unknown[] | undefined): LtiRole {
  const entries = (roles ?? []).filter((r): r is string => typeof r === 'string').map((r) => r.trim())
  const testUser = entries.includes(TEST_USER)
  const found = new Map<Course, string>()
  for (const entry of entries) {
    const course = courseRole(entry)
    if (course && !found.has(course)) found.set(course, entry)
  }
  for (const [course, role, mayOwn] of ORDER) {
    const entry = found.get(course)
    if (!entry) continue
    // Student view is a learner whatever else it carries.
    if (testUser) return { role: Role.Learner, mayOwn: false, testUser, because: found.get('Learner') ?? TEST_USER }
    return { role, mayOwn, testUser, because: entry }
  }
  return testUser ? { role: Role.Learner, mayOwn: false, testUser, because: TEST_USER } : { role: Role.Observer, mayOwn: false, testUser, because: null }
}
