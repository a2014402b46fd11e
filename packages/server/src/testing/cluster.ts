import { execFile } from 'node:child_process'
import { readdirSync } from 'node:fs'
import { promisify } from 'node:util'
import { freePort } from './process.js'

const run = promisify(execFile)
const PREFIX = 'sk_test_'

/**
 * A PostgreSQL cluster of its own (Debian's postgresql-common tools), so a test may stop and
 * restart the database under a running server without disturbing anyone else's. Trust auth on
 * loopback; dropped with `drop()`.
 */
export interface PrivateCluster {
  readonly name: string
  readonly port: number
  /** postgres://postgres@127.0.0.1:<port>/postgres */
  readonly url: string
  stop(mode?: 'fast' | 'immediate'): Promise<void>
  start(): Promise<void>
  drop(): Promise<void>
}

function newestVersion(): string | undefined {
  try {
    return readdirSync('/usr/lib/postgresql')
      .filter((v) => /^\d+$/.test(v))
      .sort((a, b) => Number(b) - Number(a))[0]
  } catch {
    return undefined
  }
}

function alive(pid: number) {
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** Drop clusters that earlier test processes made and could not drop (they were killed). */
async function dropAbandoned(version: string) {
  const { stdout } = await run('pg_lsclusters', ['--no-header'])
  for (const line of stdout.split('\n')) {
    const [ver, name] = line.trim().split(/\s+/)
    const pid = new RegExp(`^${PREFIX}(\\d+)_[a-z0-9]+$`).exec(name ?? '')?.[1]
    if (ver === version && pid && !alive(Number(pid))) await run('pg_dropcluster', ['--stop', ver, name!]).catch(() => {})
  }
}

/**
 * Create and start a private cluster on a free port. Throws with the reason (tools missing, not
 * root, …) so the caller can skip; never touches clusters it did not create.
 */
export async function privateCluster(): Promise<PrivateCluster> {
  const version = newestVersion()
  if (!version) throw new Error('PostgreSQL server binaries are not installed (/usr/lib/postgresql is missing)')
  await dropAbandoned(version).catch(() => {})
  const name = `${PREFIX}${process.pid}_${Math.random().toString(36).slice(2, 8)}`
  const port = await freePort()
  const ctl = (action: string, ...extra: string[]) => run('pg_ctlcluster', [...extra, version, name, action]).then(() => undefined)
  const drop = () => run('pg_dropcluster', ['--stop', version, name]).then(() => undefined)
  try {
    await run('pg_createcluster', [version, name, '-p', String(port), '--start-conf=manual', '--', '--auth=trust'])
  } catch (e) {
    await drop().catch(() => {})
    throw new Error(`pg_createcluster failed: ${((e as { stderr?: string }).stderr || (e as Error).message).trim()}`)
  }
  try {
    await ctl('start')
  } catch (e) {
    await drop().catch(() => {})
    throw new Error(`the new cluster did not start: ${((e as { stderr?: string }).stderr || (e as Error).message).trim()}`)
  }
  return {
    name,
    port,
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    stop: (mode = 'fast') => ctl('stop', '--mode', mode),
    start: () => ctl('start'),
    drop,
  }
}
