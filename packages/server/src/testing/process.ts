import { spawn, type ChildProcess } from 'node:child_process'
import { createServer as netServer, type AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import { TEST_API_KEY, TEST_SECRET } from './server.js'

const BIN = fileURLToPath(new URL('../../bin/session-kit-server.js', import.meta.url))

export const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const s = netServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo
      s.close(() => resolve(port))
    })
    s.on('error', reject)
  })

/** The server binary in a child process: what an operator runs, so it can be killed for real. */
export interface ServerProcess {
  readonly child: ChildProcess
  readonly url: string
  /** The tail of what it printed (for failure messages). */
  output(): string
  /** Resolves once the process has exited. */
  readonly exited: Promise<void>
  kill(signal?: NodeJS.Signals): Promise<void>
}

/** Start `session-kit-server serve` and wait until /healthz answers. */
export async function spawnServer(opts: { port: number; dataDir: string; databaseUrl?: string; timeoutMs?: number; env?: Record<string, string> }): Promise<ServerProcess> {
  // Test clients all come from 127.0.0.1: no limit on new connections from one address.
  const env = { ...process.env, SESSION_KIT_SECRET: TEST_SECRET, SESSION_KIT_API_KEY: TEST_API_KEY, DATABASE_URL: opts.databaseUrl ?? '', SESSION_KIT_NEW_CONNECTIONS_PER_IP: '0', ...opts.env }
  const child = spawn(process.execPath, [BIN, 'serve', '--port', String(opts.port), '--data-dir', opts.dataDir], { env, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  const keep = (d: Buffer) => {
    out = (out + d.toString()).slice(-8000)
  }
  child.stdout!.on('data', keep)
  child.stderr!.on('data', keep)
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  // A test that dies or times out must not leave a server holding its port and data.
  const orphaned = () => child.kill('SIGKILL')
  process.once('exit', orphaned)
  void exited.then(() => process.off('exit', orphaned))
  const url = `http://127.0.0.1:${opts.port}`
  const proc: ServerProcess = {
    child,
    url,
    output: () => out,
    exited,
    async kill(signal = 'SIGKILL') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal)
      await exited
    },
  }
  const deadline = Date.now() + (opts.timeoutMs ?? 30_000)
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}:\n${out}`)
    try {
      if ((await fetch(`${url}/healthz`)).ok) return proc
    } catch {}
    await new Promise((r) => setTimeout(r, 50))
  }
  await proc.kill()
  throw new Error(`server did not answer /healthz within ${opts.timeoutMs ?? 30_000} ms:\n${out}`)
}
