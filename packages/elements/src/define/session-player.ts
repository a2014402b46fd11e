import { SessionPlayer } from '../session-player/session-player.js'

SessionPlayer.define('session-player')

export { SessionPlayer }
