import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { createServer as netServer, type AddressInfo } from 'node:net'
import { after, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'

// Each example as a person starts it from a shell, beside `npm start` and the other examples
// (driven in Chromium by examples.test.ts).
describe('examples started from a shell', () => {
  const root = fileURLToPath(new URL('../../', import.meta.url))
  const SCRIPTS = ['plain-html', 'docs-playground', 'react-app', 'lms-course-page', 'lti-lms'] as const
  const children: ChildProcess[] = []
  after(() => children.forEach((c) => c.kill('SIGKILL')))

  /** Start an example's start.mjs with these variables; resolves with what it printed once it says "Open" or exits. */
  function launchExample(name: (typeof SCRIPTS)[number], env: Record<string, string>) {
    const child = spawn(process.execPath, [`examples/${name}/start.mjs`], { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
    children.push(child)
    const out = { stdout: '', stderr: '' }
    child.stdout!.on('data', (d: Buffer) => (out.stdout += d))
    child.stderr!.on('data', (d: Buffer) => (out.stderr += d))
    const settled = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const check = setInterval(() => {
        if (/^Open /m.test(out.stdout)) (clearInterval(check), resolve({ code: null, ...out }))
      }, 50)
      child.once('exit', (code) => (clearInterval(check), resolve({ code, ...out })))
    })
    return { child, settled }
  }

  async function holdPort(port = 0): Promise<{ port: number; release(): Promise<void> }> {
    const s = netServer()
    const taken = await new Promise<boolean>((resolve, reject) => {
      s.once('error', (e: NodeJS.ErrnoException) => (e.code === 'EADDRINUSE' ? resolve(false) : reject(e)))
      s.listen(port, '127.0.0.1', () => resolve(true))
    })
    // Already held by someone else (npm start on 8787): just as taken.
    return { port: taken ? (s.address() as AddressInfo).port : port, release: () => (taken ? new Promise<void>((r) => s.close(() => r())) : Promise.resolve()) }
  }

  const oneLine = (stderr: string, script: string, port: number, variable: string) => {
    assert.match(stderr, new RegExp(`^examples/${script}/start\\.mjs: port ${port} is already in use .*\\. Choose another: ${variable}=\\d+ node examples/${script}/start\\.mjs\\n$`))
    assert.doesNotMatch(stderr, /\n\s+at |EADDRINUSE/, 'no stack trace')
  }

  it('each honours PORT, and a taken port is one line naming it and how to choose another', { timeout: 120_000 }, async () => {
    const held = await holdPort()
    try {
      for (const name of SCRIPTS) {
        const r = await launchExample(name, { PORT: String(held.port) }).settled
        assert.equal(r.code, 1, `${name}: ${r.stdout}${r.stderr}`)
        oneLine(r.stderr, name, held.port, 'PORT')
      }
    } finally {
      await held.release()
    }
  })

  it('the Session Kit server of an example takes any free port, not npm start’s 8787; SESSION_KIT_PORT picks one', { timeout: 120_000 }, async () => {
    const npmStart = await holdPort(8787)
    const held = await holdPort()
    try {
      for (const name of ['plain-html', 'lms-course-page', 'lti-lms'] as const) {
        const started = launchExample(name, { PORT: '0' })
        const r = await started.settled
        assert.equal(r.code, null, `${name} starts beside npm start: ${r.stderr}`)
        started.child.kill('SIGKILL')
        const refused = await launchExample(name, { PORT: '0', SESSION_KIT_PORT: String(held.port) }).settled
        assert.equal(refused.code, 1, `${name}: ${refused.stdout}${refused.stderr}`)
        oneLine(refused.stderr, name, held.port, 'SESSION_KIT_PORT')
      }
    } finally {
      await held.release()
      await npmStart.release()
    }
  })

  it('a site answers 503 until its Session Kit server and session exist, and never falls over', { timeout: 120_000 }, async () => {
    for (const [name, path] of [['lms-course-page', '/course?as=ada'], ['plain-html', '/'], ['lti-lms', '/']] as const) {
      const free = await holdPort()
      await free.release()
      const started = launchExample(name, { PORT: String(free.port) })
      let done = false
      void started.settled.then(() => (done = true))
      const statuses = new Set<number>()
      while (!done) {
        const status = await fetch(`http://127.0.0.1:${free.port}${path}`).then(
          (r) => r.status,
          () => 0,
        )
        if (status) statuses.add(status)
        await new Promise((r) => setTimeout(r, 20))
      }
      const r = await started.settled
      assert.equal(r.code, null, `${name} is running: ${r.stderr}`)
      assert.ok(statuses.has(503), `${name} was asked while starting: ${[...statuses]}`)
      assert.deepEqual([...statuses].filter((s) => s !== 503 && s !== 200), [])
      assert.equal((await fetch(`http://127.0.0.1:${free.port}${path}`)).status, 200)
      assert.equal(started.child.exitCode, null, `${name} is still up`)
      started.child.kill('SIGKILL')
    }
  })
})
