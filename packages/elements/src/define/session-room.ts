import { SessionRoom } from '../session-room/session-room.js'

SessionRoom.define('session-room')

export { SessionRoom }
