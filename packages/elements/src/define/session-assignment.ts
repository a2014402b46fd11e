import { SessionAssignment } from '../session-assignment/session-assignment.js'

SessionAssignment.define('session-assignment')

export { SessionAssignment }
