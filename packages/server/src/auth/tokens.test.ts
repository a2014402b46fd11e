import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { exportJWK, generateKeyPair, SignJWT } from 'jose'
import { mintGuestToken, mintToken, parseTtl, TokenError, TokenVerifier } from './tokens.js'

const SECRET = 'unit-test-secret-0123456789abcdef'
const verifier = new TokenVerifier({ secret: SECRET })
const now = () => Math.floor(Date.now() / 1000)
const claims = { sub: 'u1', name: 'Ada', sid: 'room-1', role: 'learner' as const }
const sign = (payload: object, secret = SECRET, header: object = { alg: 'HS256' }) =>
  new SignJWT(payload as never).setProtectedHeader(header as never).sign(new TextEncoder().encode(secret))

async function refusal(token: string, sid?: string): Promise<string> {
  try {
    await (sid === undefined ? verifier.verify(token) : verifier.verify(token, { sid }))
  } catch (e) {
    assert.ok(e instanceof TokenError, `expected a TokenError, got ${e}`)
    assert.equal(e.status, 401)
    assert.ok(e.message.length > 10, 'the refusal says why')
    return e.code
  }
  assert.fail('the token was accepted')
}

describe('token verification', () => {
  it('accepts a minted token and returns its claims', async () => {
    const t = await mintToken(claims, SECRET)
    const c = await verifier.verify(t, { sid: 'room-1' })
    assert.equal(c.sub, 'u1')
    assert.equal(c.role, 'learner')
    assert.ok(c.exp > now() + 7000 && c.exp <= now() + 7200, 'default ttl is two hours')
  })
  it('refuses alg "none"', async () => {
    const enc = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url')
    assert.equal(await refusal(`${enc({ alg: 'none' })}.${enc({ ...claims, exp: now() + 60 })}.`), 'token_unsigned')
  })
  it('refuses a token signed with another key', async () => {
    assert.equal(await refusal(await sign({ ...claims, exp: now() + 60 }, 'some-other-secret-0123456789abcdef')), 'token_bad_signature')
  })
  it('refuses an expired token', async () => {
    assert.equal(await refusal(await sign({ ...claims, exp: now() - 1 })), 'token_expired')
  })
  it('refuses a token without exp', async () => {
    assert.equal(await refusal(await sign({ ...claims })), 'token_missing_exp')
  })
  it('refuses a token for another session', async () => {
    assert.equal(await refusal(await mintToken(claims, SECRET), 'room-2'), 'token_wrong_session')
  })
  it('honours nbf', async () => {
    assert.equal(await refusal(await sign({ ...claims, exp: now() + 600, nbf: now() + 300 })), 'token_not_yet_valid')
  })
  it('refuses garbage and bad claims with their own codes', async () => {
    assert.equal(await refusal('not-a-jwt'), 'token_malformed')
    assert.equal(await refusal(await sign({ ...claims, role: 'admin', exp: now() + 60 })), 'token_claims')
    assert.equal(await refusal(await sign({ ...claims, exp: now() + 60 }, SECRET, { alg: 'HS512' })), 'token_algorithm')
  })
  it('verifies ES256 and EdDSA tokens against a JWKS file, selecting the key by kid', async () => {
    const es = await generateKeyPair('ES256')
    const ed = await generateKeyPair('EdDSA', { crv: 'Ed25519' } as never)
    const dir = mkdtempSync(join(tmpdir(), 'jwks-'))
    const file = join(dir, 'jwks.json')
    writeFileSync(file, JSON.stringify({ keys: [{ ...(await exportJWK(es.publicKey)), kid: 'es', alg: 'ES256' }, { ...(await exportJWK(ed.publicKey)), kid: 'ed', alg: 'EdDSA' }] }))
    const v = new TokenVerifier({ secret: SECRET, jwks: file })
    const payload = { ...claims, exp: now() + 60 }
    const esTok = await new SignJWT(payload).setProtectedHeader({ alg: 'ES256', kid: 'es' }).sign(es.privateKey)
    const edTok = await new SignJWT(payload).setProtectedHeader({ alg: 'EdDSA', kid: 'ed' }).sign(ed.privateKey)
    assert.equal((await v.verify(esTok)).sub, 'u1')
    assert.equal((await v.verify(edTok)).sub, 'u1')
    const other = await generateKeyPair('ES256')
    const forged = await new SignJWT(payload).setProtectedHeader({ alg: 'ES256', kid: 'es' }).sign(other.privateKey)
    await assert.rejects(v.verify(forged), (e: TokenError) => e.code === 'token_bad_signature')
    // Without a JWKS, asymmetric tokens cannot be checked at all.
    await assert.rejects(verifier.verify(esTok), (e: TokenError) => e.code === 'token_algorithm')
  })
  it('holds every token to the longest lifetime configured', async () => {
    const strict = new TokenVerifier({ secret: SECRET, maxTtlSeconds: 24 * 3600 })
    assert.equal((await strict.verify(await mintToken(claims, SECRET, { ttl: '24h' }))).sub, claims.sub)
    // Before: a host token valid for years was accepted.
    for (const ttl of ['25h', '3650d']) {
      await assert.rejects(strict.verify(await mintToken(claims, SECRET, { ttl })), (e: TokenError) => e.code === 'token_lifetime' && /at most 24 hours/.test(e.message))
    }
    // Without iat, what counts is how long from now.
    const far = await new SignJWT({ ...claims }).setProtectedHeader({ alg: 'HS256' }).setExpirationTime(Math.floor(Date.now() / 1000) + 400 * 86400).sign(new TextEncoder().encode(SECRET))
    await assert.rejects(strict.verify(far), (e: TokenError) => e.code === 'token_lifetime')
  })
  it('marks guest tokens as server-signed', async () => {
    const t = await mintGuestToken(claims, { createdAt: new Date() }, SECRET)
    assert.equal((await verifier.verify(t)).iss, 'session-kit')
  })
  it('parses durations', () => {
    assert.equal(parseTtl('90s'), 90)
    assert.equal(parseTtl('15m'), 900)
    assert.equal(parseTtl('2h'), 7200)
    assert.equal(parseTtl('7d'), 604800)
    assert.throws(() => parseTtl('soon'), /not a duration/)
  })
  it('will not mint a token with invalid claims', async () => {
    await assert.rejects(mintToken({ ...claims, sid: '../etc' }, SECRET), /session id/)
  })
})
