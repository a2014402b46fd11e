/**
 * Registers every Session Kit element. For a page that needs only some of them, import
 * `@session-kit/elements/<tag>.js` instead.
 */
import './define/session-room.js'
import './define/session-editor.js'

export * from './index.js'
