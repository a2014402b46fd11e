import { SessionChat } from '../session-chat/session-chat.js'

SessionChat.define('session-chat')

export { SessionChat }
