import { SessionInvitations } from '../session-invitations/session-invitations.js'

SessionInvitations.define('session-invitations')

export { SessionInvitations }
