import { SessionRecording } from '../session-recording/session-recording.js'

SessionRecording.define('session-recording')

export { SessionRecording }
