import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { ConfigError, loadConfig, reachableUrl } from './config.js'

describe('configuration', () => {
  it('generates a development secret once, keeps it in DATA_DIR and warns', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cfg-'))
    const warnings: string[] = []
    const a = loadConfig({ DATA_DIR: dir }, {}, (m) => warnings.push(m))
    const b = loadConfig({ DATA_DIR: dir }, {}, () => {})
    assert.equal(a.secret, b.secret)
    assert.ok(a.secret.length >= 32, 'the generated secret is long')
    assert.equal(readFileSync(join(dir, 'secret'), 'utf8').trim(), a.secret)
    assert.match(warnings[0]!, /SESSION_KIT_SECRET is not set/)
  })
  it('refuses to start in production without a secret', () => {
    assert.throws(() => loadConfig({ NODE_ENV: 'production', DATA_DIR: mkdtempSync(join(tmpdir(), 'cfg-')) }), ConfigError)
    assert.throws(() => loadConfig({ NODE_ENV: 'production', SESSION_KIT_SECRET: 'short' }), /at least 16/)
  })
  it('refuses the demo in production unless told to run it there, and then warns loudly', () => {
    const env = { NODE_ENV: 'production', SESSION_KIT_SECRET: 'x'.repeat(32) }
    assert.throws(
      () => loadConfig(env, { demo: true }),
      (e: Error) => e instanceof ConfigError && /NODE_ENV=production/.test(e.message) && /tokens/.test(e.message) && /SESSION_KIT_DEMO_IN_PRODUCTION=1/.test(e.message),
    )
    assert.equal(loadConfig(env, {}).demo, false, 'production without the demo starts')
    const warnings: string[] = []
    assert.equal(loadConfig({ ...env, SESSION_KIT_DEMO_IN_PRODUCTION: '1' }, { demo: true }, (m) => warnings.push(m)).demo, true)
    assert.match(warnings.join('\n'), /DEMO MODE IN PRODUCTION/)
    const dev: string[] = []
    assert.equal(loadConfig({ SESSION_KIT_SECRET: 'x'.repeat(32) }, { demo: true }, (m) => dev.push(m)).demo, true)
    assert.deepEqual(dev, [], 'no warning in development')
  })
  it('reads the documented variables with their defaults', () => {
    const c = loadConfig({ SESSION_KIT_SECRET: 'x'.repeat(32), SESSION_KIT_ALLOWED_ORIGINS: 'https://lms.example.edu, https://docs.example.com/', SESSION_KIT_API_KEY: 'k' })
    assert.equal(c.port, 8787)
    assert.match(c.dataDir, /\.data$/)
    assert.deepEqual(c.allowedOrigins, ['https://lms.example.edu', 'https://docs.example.com'])
    assert.equal(c.apiKey, 'k')
    assert.equal(c.publicUrl, 'http://localhost:8787')
    assert.throws(() => loadConfig({ SESSION_KIT_SECRET: 'x'.repeat(32), PORT: 'eighty' }), /PORT must be a number/)
  })
  it('links point where the server is reachable: localhost, the network address on every interface, else the bound address', () => {
    const lan = { lo: [{ address: '127.0.0.1', family: 'IPv4', internal: true }], eth0: [{ address: 'fe80::1', family: 'IPv6', internal: false }, { address: '192.168.1.20', family: 'IPv4', internal: false }] } as unknown as Parameters<typeof reachableUrl>[2]
    assert.equal(reachableUrl('127.0.0.1', 8787, lan), 'http://localhost:8787')
    assert.equal(reachableUrl('::1', 8787, lan), 'http://localhost:8787')
    assert.equal(reachableUrl('0.0.0.0', 8787, lan), 'http://192.168.1.20:8787')
    assert.equal(reachableUrl('::', 8787, lan), 'http://192.168.1.20:8787')
    assert.equal(reachableUrl('0.0.0.0', 8787, {}), 'http://localhost:8787', 'no network: this machine')
    assert.equal(reachableUrl('10.0.0.5', 8787, lan), 'http://10.0.0.5:8787')
    assert.equal(reachableUrl('fd00::2', 8787, lan), 'http://[fd00::2]:8787')
    const secret = 'x'.repeat(32)
    assert.equal(loadConfig({ SESSION_KIT_SECRET: secret, HOST: '10.0.0.5', PORT: '9000' }).publicUrl, 'http://10.0.0.5:9000')
    assert.equal(loadConfig({ SESSION_KIT_SECRET: secret, HOST: '10.0.0.5', SESSION_KIT_PUBLIC_URL: 'https://rooms.example.edu/' }).publicUrl, 'https://rooms.example.edu')
  })
  it('binds this machine only in development and every interface in production, unless HOST says', () => {
    const secret = 'x'.repeat(32)
    assert.equal(loadConfig({ SESSION_KIT_SECRET: secret }).host, '127.0.0.1')
    assert.equal(loadConfig({ SESSION_KIT_SECRET: secret, HOST: '0.0.0.0' }).host, '0.0.0.0')
    assert.equal(loadConfig({ SESSION_KIT_SECRET: secret, NODE_ENV: 'production' }, {}, () => {}).host, '0.0.0.0')
    assert.equal(loadConfig({ SESSION_KIT_SECRET: secret, NODE_ENV: 'production', HOST: '10.0.0.5' }, {}, () => {}).host, '10.0.0.5')
  })
  it('warns in production when any site may frame the pages and links would point at localhost', () => {
    const warnings: string[] = []
    loadConfig({ SESSION_KIT_SECRET: 'x'.repeat(32), NODE_ENV: 'production' }, {}, (m) => warnings.push(m))
    assert.ok(warnings.some((w) => /SESSION_KIT_ALLOWED_ORIGINS is not set: any site may frame/.test(w)), warnings.join('\n'))
    assert.ok(warnings.some((w) => /SESSION_KIT_PUBLIC_URL is not set/.test(w)))
    const quiet: string[] = []
    loadConfig({ SESSION_KIT_SECRET: 'x'.repeat(32), NODE_ENV: 'production', SESSION_KIT_ALLOWED_ORIGINS: 'https://lms.example.edu', SESSION_KIT_PUBLIC_URL: 'https://rooms.example.edu' }, {}, (m) => quiet.push(m))
    assert.deepEqual(quiet, [])
  })
  it('reads the limits, with their defaults, and refuses values that are not numbers or durations', () => {
    const secret = 'x'.repeat(32)
    const d = loadConfig({ SESSION_KIT_SECRET: secret })
    assert.deepEqual(d.limits, { maxMessageOps: 20_000, maxDocumentChars: 200_000, editsPerMinute: 20_000, maxFiles: 100, writeCooldownMs: 600_000 })
    assert.equal(d.maxTokenTtlSeconds, 86_400)
    assert.equal(d.maxConnectionsPerIp, 1000)
    assert.equal(d.newConnectionsPerIpPerSecond, 10)
    const c = loadConfig({ SESSION_KIT_SECRET: secret, SESSION_KIT_MAX_EDIT_CHARS: '50_000', SESSION_KIT_MAX_DOCUMENT_CHARS: '1000000', SESSION_KIT_EDIT_RATE: '60000', SESSION_KIT_MAX_FILES: '20', SESSION_KIT_WRITE_COOLDOWN: '30m', SESSION_KIT_MAX_TOKEN_TTL: '7d', SESSION_KIT_MAX_CONNECTIONS_PER_IP: '0' })
    assert.deepEqual(c.limits, { maxMessageOps: 50_000, maxDocumentChars: 1_000_000, editsPerMinute: 60_000, maxFiles: 20, writeCooldownMs: 1_800_000 })
    assert.equal(c.maxTokenTtlSeconds, 7 * 86_400)
    assert.equal(c.maxConnectionsPerIp, 0, '0: no limit')
    assert.throws(() => loadConfig({ SESSION_KIT_SECRET: secret, SESSION_KIT_MAX_FILES: 'lots' }), /SESSION_KIT_MAX_FILES must be a whole number of at least 1/)
    assert.throws(() => loadConfig({ SESSION_KIT_SECRET: secret, SESSION_KIT_MAX_EDIT_CHARS: '0' }), /at least 1/)
    assert.throws(() => loadConfig({ SESSION_KIT_SECRET: secret, SESSION_KIT_WRITE_COOLDOWN: 'soon' }), /SESSION_KIT_WRITE_COOLDOWN must be a duration/)
  })

  it('reads the verified runs’ sandboxes and limits, with their defaults', () => {
    const secret = 'x'.repeat(32)
    assert.deepEqual(loadConfig({ SESSION_KIT_SECRET: secret }).runs, { workers: 1, queue: 20, timeoutMs: 5000, memoryMb: 128, perUserPerMinute: 10, perRoomPerMinute: 60 })
    const c = loadConfig({ SESSION_KIT_SECRET: secret, SESSION_KIT_RUN_WORKERS: '2', SESSION_KIT_RUN_QUEUE: '0', SESSION_KIT_RUN_TIMEOUT_MS: '10_000', SESSION_KIT_RUN_MEMORY_MB: '256', SESSION_KIT_RUNS_PER_USER: '30', SESSION_KIT_RUNS_PER_ROOM: '300' })
    assert.deepEqual(c.runs, { workers: 2, queue: 0, timeoutMs: 10_000, memoryMb: 256, perUserPerMinute: 30, perRoomPerMinute: 300 })
    assert.throws(() => loadConfig({ SESSION_KIT_SECRET: secret, SESSION_KIT_RUN_WORKERS: '0' }), /SESSION_KIT_RUN_WORKERS must be a whole number of at least 1/)
    assert.throws(() => loadConfig({ SESSION_KIT_SECRET: secret, SESSION_KIT_RUN_TIMEOUT_MS: '5s' }), /SESSION_KIT_RUN_TIMEOUT_MS must be a whole number/)
    assert.throws(() => loadConfig({ SESSION_KIT_SECRET: secret, SESSION_KIT_RUN_MEMORY_MB: '8' }), /at least 16/)
  })
})
