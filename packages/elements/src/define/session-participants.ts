import { SessionParticipants } from '../session-participants/session-participants.js'

SessionParticipants.define('session-participants')

export { SessionParticipants }
