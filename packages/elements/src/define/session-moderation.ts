import { SessionModeration } from '../session-moderation/session-moderation.js'

SessionModeration.define('session-moderation')

export { SessionModeration }
