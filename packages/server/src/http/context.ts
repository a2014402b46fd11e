import type { AssignmentCaller, Caller } from '../auth/caller.js'
import type { TokenVerifier } from '../auth/tokens.js'
import type { ServerConfig } from '../config.js'
import type { Database } from '../store/db.js'
import type { Hub } from '../sync/hub.js'
import type { Mailer } from '../mail/mailer.js'
import type { VerifiedRuns } from '../runs/verified-runs.js'
import type { ToolKeys } from '../lti/keys.js'
import type { ServiceTokens } from '../lti/service-token.js'
import type { GradeOutbox } from '../lti/grades.js'
import type { RetentionJob } from '../retention/job.js'
import type { WebhookWorker } from '../webhooks/worker.js'

/** What every route can reach. */
export interface Services {
  config: ServerConfig
  db: Database
  hub: Hub
  verifier: TokenVerifier
  mailer: Mailer
  /** Runs the server makes itself from the stored code, in its sandboxes. */
  runs: VerifiedRuns
  /** Our LTI 1.3 signing keys (Deep Linking responses, service tokens), published at /lti/jwks. */
  ltiKeys: ToolKeys
  /** Access tokens for the LMSs' services (course rosters, gradebooks), cached per platform and scopes. */
  ltiTokens: ServiceTokens
  /** Scores on their way to LMS gradebooks (a durable outbox with its worker). */
  ltiGrades: GradeOutbox
  /** Posts the webhook outbox to the hosts' endpoints (a durable outbox with its worker). */
  webhooks: WebhookWorker
  /** Deletes what outlived its retention period (one instance at a time runs it). */
  retention: RetentionJob
  /** The time, injectable for tests (invitation expiry and rate windows use it). */
  clock: () => Date
  log: (msg: string) => void
}

/** Who is calling a room route, resolved by `roomAuth` (see auth/caller.ts). */
export type RoomCaller = Caller

export type AppEnv = {
  Variables: {
    services: Services
    caller: RoomCaller
    /** Who is calling an assignment route, resolved by `assignmentAuth`. */
    assignmentCaller: AssignmentCaller
    /** The client's address (see http/address.ts), on the sync route. */
    address: string
  }
}
