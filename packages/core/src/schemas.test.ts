import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import * as v from 'valibot'
import { ClientEventSchema, CloseCode, colorFor, HelloSchema, languageForFile, PersonNameSchema, retryPolicy, TokenClaimsSchema } from './index.js'

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
  it('names a session, an assignment or both, never neither', () => {
    const { sid: _, ...noSid } = good
    assert.ok(v.safeParse(TokenClaimsSchema, { ...noSid, assignment: 'hw-1' }).success)
    assert.ok(v.safeParse(TokenClaimsSchema, { ...good, assignment: 'hw-1' }).success)
    const neither = v.safeParse(TokenClaimsSchema, noSid)
    assert.equal(neither.success, false)
    assert.match(neither.issues![0].message, /sid.*assignment/)
    assert.equal(v.safeParse(TokenClaimsSchema, { ...noSid, assignment: '../hw' }).success, false)
  })
})

describe('person names', () => {
  const ok = (name: string) => v.safeParse(PersonNameSchema, name)
  const refused = (name: string, why: RegExp) => {
    const r = ok(name)
    assert.equal(r.success, false, `${JSON.stringify(name)} is refused`)
    assert.match(r.issues![0].message, why, JSON.stringify(name))
  }
  it('keeps the names people have, in any script', () => {
    for (const name of ['Zoë Ñúñez', '李雷', "O'Brien", 'Anne-Marie Dupont', 'محمد', 'שרה', 'अनुष्का', 'می\u200cخواهم', 'Zoe\u0301', '👩\u200d💻 Dev', 'Ada (instructor)', 'A']) {
      const r = ok(name)
      assert.ok(r.success, `${JSON.stringify(name)}: ${r.issues?.[0].message}`)
      assert.equal(r.output, name)
    }
    assert.equal(v.parse(PersonNameSchema, '  Ada Lovelace \t'), 'Ada Lovelace', 'spaces around are trimmed')
  })
  it('refuses control characters', () => {
    for (const c of ['\n', '\r', '\t', '\u0000', '\u0007', '\u001b', '\u007f', '\u0085', '\u009b']) refused(`Ada${c}Lovelace`, /control characters/)
  })
  it('refuses text-direction overrides and isolates', () => {
    for (let cp = 0x202a; cp <= 0x202e; cp++) refused(`Ada ${String.fromCodePoint(cp)}ecalevoL`, /direction/)
    for (let cp = 0x2066; cp <= 0x2069; cp++) refused(`Ada ${String.fromCodePoint(cp)}x`, /direction/)
  })
  it('refuses invisible and private characters, and names with nothing visible', () => {
    for (const c of ['\u200b', '\u00ad', '\u2060', '\ufeff', '\u3164', '\u115f', '\uffa0', '\ue000', '\uffff', '\ud800', '\u{e0001}']) refused(`Ad${c}a`, /invisible|U\+/)
    for (const name of ['\u200c', '\u200d\u200c', '\u0301\u0301', '\u2800', '\u200e']) refused(name, /visible/)
    refused('', /empty/)
    refused('   ', /empty/)
    refused('x'.repeat(201), /200/)
  })
  it('is the rule of the token name claim too', () => {
    const claims = { sub: 'u1', sid: 'demo', role: 'learner', exp: 2_000_000_000 }
    assert.equal(v.safeParse(TokenClaimsSchema, { ...claims, name: 'Ada\u202eecalevoL' }).success, false)
    assert.equal(v.safeParse(TokenClaimsSchema, { ...claims, name: '\u200b' }).success, false)
    assert.equal(v.parse(TokenClaimsSchema, { ...claims, name: 'Zoë Ñúñez' }).name, 'Zoë Ñúñez')
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
