import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import * as v from 'valibot'
import { ClientEventSchema, CloseCode, colorFor, HelloSchema, languageForFile, retryPolicy, TokenClaimsSchema } from './index.js'

describe('token claims', () => {
  const good = { sub: 'u1', name: 'Ada', sid: 'demo', role: 'learner', exp: 2_000_000_000 }
  it('accepts the documented claims', () => assert.ok(v.safeParse(TokenClaimsSchema, good).success))
  it('requires exp', () => {
    const { exp: _, ...noExp } = good
    assert.equal(v.safeParse(TokenClaimsSchema, noExp).success, false)
  })
  it('refuses an unknown role with a message naming the roles', () => {
    const r = v.safeParse(TokenClaimsSchema, { ...good, role: 'admin' })
    assert.equal(r.success, false)
    assert.match(r.issues![0].message, /instructor, learner, observer/)
  })
  it('refuses a session id that could escape a URL path', () => {
    assert.equal(v.safeParse(TokenClaimsSchema, { ...good, sid: '../x' }).success, false)
  })
})

describe('wire messages', () => {
  it('hello defaults sync to true', () => {
    const r = v.parse(HelloSchema, { type: 'hello', token: 't', protocol: 1 })
    assert.equal(r.sync, true)
  })
  it('hello with a non-string token is refused', () => {
    assert.equal(v.safeParse(HelloSchema, { type: 'hello', token: 5, protocol: 1 }).success, false)
  })
  it('events are validated by type', () => {
    assert.ok(v.safeParse(ClientEventSchema, { type: 'presence', cursor: { file: 'main.js', anchor: 1, head: 3 } }).success)
    assert.equal(v.safeParse(ClientEventSchema, { type: 'presence', cursor: { file: 'main.js', anchor: -1, head: 3 } }).success, false)
    assert.equal(v.safeParse(ClientEventSchema, { type: 'shout' }).success, false)
  })
  it('close codes tell the client whether to retry', () => {
    assert.equal(retryPolicy(CloseCode.PermissionsChanged), 'now')
    assert.equal(retryPolicy(CloseCode.NotOpenYet), 'backoff')
    assert.equal(retryPolicy(CloseCode.Removed), 'never')
    assert.equal(retryPolicy(1006), 'backoff')
  })
})

describe('helpers', () => {
  it('colours are stable per user and differ between users', () => {
    assert.equal(colorFor('ada'), colorFor('ada'))
    const colours = new Set(['a', 'b', 'c', 'd', 'e', 'f'].map(colorFor))
    assert.ok(colours.size > 2)
  })
  it('guesses the language from the extension', () => {
    assert.equal(languageForFile('main.py'), 'python')
    assert.equal(languageForFile('index.HTML'), 'html')
    assert.equal(languageForFile('README', 'css'), 'css')
  })
})
