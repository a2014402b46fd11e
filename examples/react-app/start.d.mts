export function start(opts?: { port?: number }): Promise<{ url: string; close(): Promise<void> }>
