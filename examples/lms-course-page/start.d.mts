import type { SessionKitServer } from '@session-kit/server'
export const USERS: Record<string, { name: string; role: string }>
export function start(opts?: { port?: number; serverPort?: number; dataDir?: string }): Promise<{ url: string; server: SessionKitServer; close(): Promise<void> }>
