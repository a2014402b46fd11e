/** The element classes, without registering any tag (see the `define` entry points for that). */
export { SessionRoom } from './session-room/session-room.js'
export { SessionEditor } from './session-editor/session-editor.js'
export { SessionElement } from './internal/session-element.js'
export { configure } from './internal/automerge.js'
export type { RoomState, RoomStatus } from './internal/room-state.js'
export * from './events/events.js'
