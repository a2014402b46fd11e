import { Hono, type Context } from 'hono'
import * as v from 'valibot'
import { Permission, type RosterPulled } from '@session-kit/core'
import { assignmentAuth, requirePermission, roomAuth } from '../http/auth.js'
import type { AppEnv } from '../http/context.js'
import { body } from '../http/validate.js'
import { pullRosters, ROSTER_ROLES, type RosterRole } from '../lti/roster.js'
import { linksOf } from '../store/lti.js'
import { loadAssignment } from './assignments.js'

const ROLES = Object.keys(ROSTER_ROLES) as RosterRole[]
const PullRoster = v.object({ role: v.optional(v.picklist(ROLES, `role must be one of ${ROLES.join(', ')}`)) })

/**
 * The LMS's services for what it launched (LTI Advantage): the course roster (Names and Role
 * Provisioning), pulled on an instructor's request. Grades go by themselves (see lti/grades.ts).
 */
export function ltiServiceRoutes() {
  const r = new Hono<AppEnv>()

  const pull = async (c: Context<AppEnv>, links: Parameters<typeof pullRosters>[1], what: string) => {
    const { role } = await body(c, PullRoster)
    return c.json((await pullRosters(c.var.services, links, what, { role })) satisfies RosterPulled)
  }

  // The course roster of an assignment's LMS links: its learners show in the class overview before they open it.
  r.post('/assignments/:aid/roster', assignmentAuth('instructor'), async (c) => {
    const a = await loadAssignment(c)
    return pull(c, await linksOf(c.var.services.db.sql, { assignmentId: a.id }), 'assignment')
  })

  // A live room's course roster: who could be invited (INVITE_PARTICIPANTS: every instructor in the room, as inviting is).
  r.post('/sessions/:sid/roster', roomAuth, requirePermission(Permission.INVITE_PARTICIPANTS), async (c) => {
    return pull(c, await linksOf(c.var.services.db.sql, { sessionId: c.var.caller.session.id }), 'session')
  })

  return r
}
