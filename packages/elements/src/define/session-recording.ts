import { SessionRecording } from '../session-recording/session-recording.js'
import './session-player.js'

SessionRecording.define('session-recording')

export { SessionRecording }
