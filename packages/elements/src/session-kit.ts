/**
 * Registers every Session Kit element. For a page that needs only some of them, import
 * `@session-kit/elements/<tag>.js` instead.
 */
import './define/session-room.js'
import './define/session-editor.js'
import './define/session-runner.js'
import './define/session-chat.js'
import './define/session-participants.js'
import './define/session-moderation.js'
import './define/session-gate.js'
import './define/session-invitations.js'
import './define/session-snapshots.js'
import './define/session-recording.js'
import './define/session-player.js'
import './define/session-analytics.js'
import './define/session-assignment.js'
import './define/session-classroom.js'

export * from './index.js'
