import { SessionClassroom } from '../session-classroom/session-classroom.js'

SessionClassroom.define('session-classroom')

export { SessionClassroom }
