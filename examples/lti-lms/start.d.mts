import type { SessionKitServer } from '@session-kit/server'
import type { SimulatedPlatform } from '@session-kit/server/testing'
export function start(opts?: { port?: number; serverPort?: number; dataDir?: string }): Promise<{
  url: string
  server: SessionKitServer
  lms: SimulatedPlatform
  launchUrl(as: 'ada' | 'grace' | 'mo' | 'view', opts?: { storage?: boolean; deepLinking?: boolean }): string
  close(): Promise<void>
}>
