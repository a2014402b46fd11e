import assert from 'node:assert/strict'
import { execFile, spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync } from 'node:fs'
import { createServer as netServer, type AddressInfo, type Server } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { mintToken } from './auth/tokens.js'
import { reachableUrl } from './config.js'
import { freshDataDir, removeDir } from './testing/db.js'
import { TEST_SECRET } from './testing/server.js'

const BIN = fileURLToPath(new URL('../bin/session-kit-server.js', import.meta.url))
const DIST = new URL('../dist/', import.meta.url).href

interface Ran {
  code: number | null
  stdout: string
  stderr: string
}

/** The CLI as a person runs it: no configuration beyond what the test names. */
function cli(args: string[], opts: { env?: Record<string, string>; cwd?: string; timeoutMs?: number } = {}): Promise<Ran> {
  const env: Record<string, string> = { PATH: process.env.PATH ?? '', ...opts.env }
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env, cwd: opts.cwd, timeout: opts.timeoutMs ?? 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, stdout, stderr })
    })
  })
}

/** Hold a port on 127.0.0.1, as another program would. */
async function holdPort(): Promise<Server> {
  const s = netServer()
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r))
  return s
}

describe('session-kit-server, the command line', () => {
  it('--help prints the help and nothing else, before reading any configuration', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'sk-help-'))
    try {
      const outputs = new Set<string>()
      for (const args of [['--help'], ['-h'], ['help'], ['serve', '--help'], ['token', '--help'], ['serve', '--demo', '--port', '1', '--help']]) {
        const r = await cli(args, { cwd })
        assert.equal(r.code, 0, args.join(' '))
        assert.equal(r.stderr, '', `${args.join(' ')} writes nothing to stderr (no development-secret note)`)
        outputs.add(r.stdout)
      }
      assert.equal(outputs.size, 1, 'one help, however it is asked for')
      const [help] = outputs
      assert.match(help!, /^Usage:\n/)
      assert.match(help!, /SESSION_KIT_TRUST_PROXY\.\n$/, 'ends with the limits and one newline')
      assert.match(help!, /^ {2}HOST +address to listen on \(default 127\.0\.0\.1, this machine only/m, 'HOST is documented')
      assert.match(help!, /^ {2}SESSION_KIT_PUBLIC_URL +where browsers reach the server/m)
      assert.equal(existsSync(join(cwd, '.data')), false, 'no data folder or secret was created')
    } finally {
      removeDir(cwd)
    }
  })

  it('a port in use is one line saying which port and how to choose another, and exit code 1', async () => {
    const held = await holdPort()
    const port = (held.address() as AddressInfo).port
    const dataDir = mkdtempSync(join(tmpdir(), 'sk-port-'))
    try {
      for (const [args, env] of [
        [['serve', '--port', String(port), '--data-dir', dataDir], {}],
        [['serve', '--data-dir', dataDir], { PORT: String(port) }],
      ] as const) {
        const started = Date.now()
        const r = await cli([...args], { env: { SESSION_KIT_SECRET: TEST_SECRET, ...env } })
        assert.equal(r.code, 1, r.stderr)
        assert.equal(r.stdout, '')
        assert.match(r.stderr, new RegExp(`^session-kit-server: port ${port} is already in use .*Choose another with --port (\\d+) or PORT=\\1\\.\\n$`))
        assert.doesNotMatch(r.stderr, /\n\s+at |EADDRINUSE/, 'no stack trace')
        assert.ok(Date.now() - started < 10_000, 'said at once, before opening the database')
      }
    } finally {
      held.close()
      removeDir(dataDir)
    }
  })

  it('createServer on a port in use rejects at once, before opening the database, and leaves nothing open', async () => {
    const held = await holdPort()
    const port = (held.address() as AddressInfo).port
    const dataDir = mkdtempSync(join(tmpdir(), 'sk-port-'))
    try {
      // In a process of its own: it must end by itself once the error is handled.
      const script = `import { createServer } from '${DIST}index.js'
try { await createServer({ port: ${port}, dataDir: ${JSON.stringify(dataDir)}, env: { SESSION_KIT_SECRET: '${TEST_SECRET}' }, log: () => {} }) } catch (e) { console.log(e.code) }`
      const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] })
      let out = ''
      child.stdout.on('data', (d: Buffer) => (out += d))
      const ended = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), 30_000)
        child.once('exit', () => (clearTimeout(timer), resolve(true)))
      })
      if (!ended) child.kill('SIGKILL')
      assert.equal(out.trim(), 'EADDRINUSE')
      assert.ok(ended, 'the process ended: nothing was left open')
      assert.deepEqual(readdirSync(dataDir), [], 'no database was opened')
    } finally {
      held.close()
      removeDir(dataDir)
    }
  })

  describe('listening on every interface (HOST=0.0.0.0)', () => {
    let child: ReturnType<typeof spawn>
    let dataDir: string
    let out = ''
    before(async () => {
      dataDir = await freshDataDir()
      child = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--data-dir', dataDir, '--demo'], {
        env: { PATH: process.env.PATH ?? '', HOST: '0.0.0.0', SESSION_KIT_SECRET: TEST_SECRET, SESSION_KIT_NEW_CONNECTIONS_PER_IP: '0' },
        stdio: ['ignore', 'pipe', 'pipe'],
      })
      child.stdout!.on('data', (d: Buffer) => (out += d))
      child.stderr!.on('data', (d: Buffer) => (out += d))
      const deadline = Date.now() + 30_000
      while (!/demo room: open/.test(out)) {
        if (Date.now() > deadline || child.exitCode !== null) throw new Error(`the server did not start:\n${out}`)
        await new Promise((r) => setTimeout(r, 50))
      }
    })
    after(async () => {
      if (child.exitCode === null) {
        child.kill('SIGTERM')
        await new Promise((r) => child.once('exit', r))
      }
      removeDir(dataDir)
    })

    it('the start line and invitation links name the address other machines reach, not localhost', async () => {
      const port = Number(/listening on every network interface, port (\d+)/.exec(out)?.[1])
      assert.ok(port > 0, out)
      const reachable = reachableUrl('0.0.0.0', port)
      assert.match(out, new RegExp(`demo room: open ${reachable.replaceAll('.', '\\.')}/ in a browser`))
      assert.match(out, new RegExp(`browsers reach it at ${reachable.replaceAll('.', '\\.')} \\(SESSION_KIT_PUBLIC_URL sets another address\\)`))
      const token = await mintToken({ sid: 'demo', sub: 'demo-instructor', name: 'Ada', role: 'instructor' }, TEST_SECRET)
      const res = await fetch(`http://127.0.0.1:${port}/v1/sessions/demo/invitations`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ email: 'guest@example.edu', role: 'learner' }),
      })
      assert.equal(res.status, 201)
      const { link } = (await res.json()) as { link: string }
      assert.ok(link.startsWith(`${reachable}/invite?invite=`), link)
    })
  })
})
