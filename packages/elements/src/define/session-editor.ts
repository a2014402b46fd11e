import { SessionEditor } from '../session-editor/session-editor.js'

SessionEditor.define('session-editor')

export { SessionEditor }
