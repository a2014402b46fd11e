import { SessionRunner } from '../session-runner/session-runner.js'

SessionRunner.define('session-runner')

export { SessionRunner }
