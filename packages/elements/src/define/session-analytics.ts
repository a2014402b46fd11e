import { SessionAnalytics } from '../session-analytics/session-analytics.js'

SessionAnalytics.define('session-analytics')

export { SessionAnalytics }
