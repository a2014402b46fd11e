import { SessionGate } from '../session-gate/session-gate.js'

SessionGate.define('session-gate')

export { SessionGate }
