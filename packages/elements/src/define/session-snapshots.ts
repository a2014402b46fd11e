import { SessionSnapshots } from '../session-snapshots/session-snapshots.js'

SessionSnapshots.define('session-snapshots')

export { SessionSnapshots }
