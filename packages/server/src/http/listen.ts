import { createServer } from 'node:net'

/**
 * Listen on the port and let it go again: rejects with the error the server's own listen would meet
 * (EADDRINUSE, EACCES, EADDRNOTAVAIL), so a taken port is said before a database is opened.
 */
export function tryListen(port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const probe = createServer()
    probe.once('error', reject)
    probe.listen(port, host, () => probe.close(() => resolve()))
  })
}
