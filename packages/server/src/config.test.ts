import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { ConfigError, loadConfig } from './config.js'

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
  it('reads the documented variables with their defaults', () => {
    const c = loadConfig({ SESSION_KIT_SECRET: 'x'.repeat(32), SESSION_KIT_ALLOWED_ORIGINS: 'https://lms.example.edu, https://docs.example.com/', SESSION_KIT_API_KEY: 'k' })
    assert.equal(c.port, 8787)
    assert.match(c.dataDir, /\.data$/)
    assert.deepEqual(c.allowedOrigins, ['https://lms.example.edu', 'https://docs.example.com'])
    assert.equal(c.apiKey, 'k')
    assert.equal(c.publicUrl, 'http://localhost:8787')
    assert.throws(() => loadConfig({ SESSION_KIT_SECRET: 'x'.repeat(32), PORT: 'eighty' }), /PORT must be a number/)
  })
})
