import assert from 'node:assert/strict'
import { execFile, spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync } from 'node:fs'
import { createServer as netServer, type AddressInfo, type Server } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { jwtVerify } from 'jose'
import { mintToken } from './auth/tokens.js'
import { reachableUrl } from './config.js'
import { freshDataDir, removeDir } from './testing/db.js'
import { startTestServer, TEST_SECRET } from './testing/server.js'

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

  describe('lti: registering LMSs from the command line', () => {
    const LMS = 'https://moodle.example.edu'
    const platformFlags = ['--issuer', LMS, '--client-id', 'sk-1', '--auth-url', `${LMS}/auth`, '--token-url', `${LMS}/token`, '--jwks-url', `${LMS}/jwks`]

    it('add-platform, then list-platforms, remove-platform and rotate-keys, on a fresh data folder', async () => {
      const dataDir = await freshDataDir()
      const lti = (...args: string[]) => cli(['lti', ...args, '--data-dir', dataDir])
      try {
        const added = await lti('add-platform', ...platformFlags, '--deployment', 'd1', '--deployment', 'd2', '--name', 'Moodle')
        assert.equal(added.code, 0, added.stderr)
        const id = /^Registered the LMS Moodle as (p[0-9a-f]{10}): issuer https:\/\/moodle\.example\.edu, client id sk-1, deployments d1, d2\.\n$/.exec(added.stdout)?.[1]
        assert.ok(id, added.stdout)

        const again = await lti('add-platform', ...platformFlags, '--deployment', 'd3', '--json')
        assert.equal(again.code, 0, again.stderr)
        const json = JSON.parse(again.stdout)
        assert.equal(json.id, id, 'the same issuer and client id: the same registration')
        assert.deepEqual(json.deploymentIds, ['d1', 'd2', 'd3'])
        assert.equal(json.registeredBy, 'admin')

        const listed = await lti('list-platforms')
        assert.equal(listed.code, 0, listed.stderr)
        assert.match(listed.stdout, new RegExp(`^${id}  Moodle  issuer ${LMS.replaceAll('.', '\\.')}  client id sk-1  deployments d1, d2, d3  \\(by an administrator, \\d{4}-\\d\\d-\\d\\d\\)\\n$`))
        const listedJson = JSON.parse((await lti('list-platforms', '--json')).stdout)
        assert.deepEqual(listedJson.platforms.map((p: { id: string }) => p.id), [id])

        const kid = await lti('rotate-keys')
        assert.equal(kid.code, 0, kid.stderr)
        assert.match(kid.stdout, /^New LTI signing key sk-\d{4}-\d\d-\d\d-[0-9a-f]{8}: /)

        const removed = await lti('remove-platform', '--id', id!)
        assert.equal(removed.code, 0, removed.stderr)
        const unknown = await lti('remove-platform', '--id', id!)
        assert.equal(unknown.code, 1)
        assert.match(unknown.stderr, /^session-kit-server: no LMS is registered with id "p[0-9a-f]{10}" \(session-kit-server lti list-platforms shows the ids\)\.\n$/)
        assert.match((await lti('list-platforms')).stdout, /^No LMS is registered yet/)
      } finally {
        removeDir(dataDir)
      }
    })

    it('a wrong command line is one sentence and exit code 2, before opening any database', async () => {
      const dataDir = mkdtempSync(join(tmpdir(), 'sk-lti-'))
      try {
        const cases: [string[], RegExp][] = [
          [['lti', 'add-platform', '--issuer', LMS], /^session-kit-server: lti add-platform needs --client-id, --auth-url, --token-url, --jwks-url, --deployment \(/],
          [['lti', 'add-platform', ...platformFlags], /needs --deployment \(/],
          [['lti', 'add-platform', ...platformFlags.map((f) => f.replace('https://', 'http://')), '--deployment', 'd1'], /^session-kit-server: --issuer must use https \(plain http only for localhost or 127\.0\.0\.1\)\.\n$/],
          [['lti', 'add-platform', ...platformFlags, '--deployment', ''], /^session-kit-server: --deployment must not be empty\.\n$/],
          [['lti', 'add-platform', ...platformFlags, '--deployment', 'x'.repeat(256)], /^session-kit-server: --deployment must be at most 255 characters\.\n$/],
          [['lti', 'remove-platform'], /^session-kit-server: lti remove-platform needs --id /],
          [['lti'], /^session-kit-server: lti needs a command: add-platform, list-platforms/],
          [['lti', 'frobnicate'], /^session-kit-server: unknown lti command "frobnicate"/],
          [['lti', 'list-platforms', '--colour'], /^session-kit-server: Unknown option '--colour'/],
          [['lti', 'registration-url', '--ttl', '90d'], /^session-kit-server: --ttl must be a duration from 1m to 30d/],
        ]
        for (const [args, stderr] of cases) {
          const r = await cli([...args, '--data-dir', dataDir])
          assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`)
          assert.match(r.stderr, stderr, args.join(' '))
          assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace')
          assert.equal(r.stdout, '')
        }
        assert.deepEqual(readdirSync(dataDir), [], 'no database was opened')
      } finally {
        removeDir(dataDir)
      }
    })

    it('registration-url and tool-config name the public URL', async () => {
      const env = { SESSION_KIT_SECRET: TEST_SECRET, SESSION_KIT_PUBLIC_URL: 'https://rooms.example.edu' }
      const reg = await cli(['lti', 'registration-url', '--ttl', '1d', '--json'], { env })
      assert.equal(reg.code, 0, reg.stderr)
      const { url, expiresAt } = JSON.parse(reg.stdout)
      assert.ok(url.startsWith('https://rooms.example.edu/lti/register?reg='), url)
      assert.ok(Math.abs(Date.parse(expiresAt) - Date.now() - 86_400_000) < 60_000)
      const { payload } = await jwtVerify(new URL(url).searchParams.get('reg')!, new TextEncoder().encode(TEST_SECRET))
      assert.equal(payload.purpose, 'lti-registration')

      const tool = await cli(['lti', 'tool-config', '--json'], { env: { SESSION_KIT_PUBLIC_URL: 'https://rooms.example.edu' } })
      assert.equal(tool.code, 0, tool.stderr)
      assert.equal(tool.stderr, '', 'no secret is needed (nor made) to print the configuration')
      assert.deepEqual(JSON.parse(tool.stdout), {
        loginUrl: 'https://rooms.example.edu/lti/login',
        launchUrl: 'https://rooms.example.edu/lti/launch',
        jwksUrl: 'https://rooms.example.edu/lti/jwks',
        deepLinkingUrl: 'https://rooms.example.edu/lti/launch',
        domain: 'rooms.example.edu',
      })
    })

    it('a data folder a running server holds is refused in one sentence naming the API route', async () => {
      const s = await startTestServer('pglite')
      try {
        const r = await cli(['lti', 'list-platforms', '--data-dir', s.dataDir])
        assert.equal(r.code, 1, r.stderr)
        assert.equal(r.stdout, '')
        assert.match(r.stderr, /^session-kit-server: the data folder .+ is open in a running Session Kit server \(embedded PGlite serves one process at a time\): use that server's GET \/v1\/lti\/platforms \(with the API key\) instead, or stop it first; .*\.\n$/)
        assert.equal((await s.api('GET', '/healthz')).status, 200, 'the server was not disturbed')
      } finally {
        await s.stop()
      }
    })
  })
})
