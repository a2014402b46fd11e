import { randomBytes } from 'node:crypto'
import { exportJWK, generateKeyPair, importJWK, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose'
import type { Sql } from '../store/db.js'
import { addToolKey, publishedKeys, signingKey, type ToolKeyRow } from '../store/lti.js'

/** How long a retired key stays published: platforms cache a tool's key set for hours. */
export const KEEP_RETIRED_S = 24 * 3600

/**
 * Our own RS256 keys, kept in the database so every instance signs with the same one: they sign
 * Deep Linking responses and the assertions that get service tokens (NRPS, AGS). The first is made
 * when first needed; `rotate()` makes a new one and retires the others (published for a day more).
 */
export class ToolKeys {
  #current?: { kid: string; key: CryptoKey | Uint8Array; at: number }

  constructor(private readonly sql: Sql) {}

  /** The key set platforms fetch from /lti/jwks. */
  async jwks(): Promise<{ keys: JWK[] }> {
    await this.#ensure()
    const rows = await publishedKeys(this.sql, KEEP_RETIRED_S)
    return { keys: rows.map((r) => ({ ...r.publicJwk, kid: r.kid, alg: 'RS256', use: 'sig' })) }
  }

  /** Sign claims as the tool, with the current key (its kid in the header). */
  async sign(payload: JWTPayload, opts: { expiresIn?: number; typ?: string } = {}): Promise<string> {
    const { kid, key } = await this.#signer()
    const now = Math.floor(Date.now() / 1000)
    return new SignJWT(payload)
      .setProtectedHeader({ alg: 'RS256', kid, typ: opts.typ ?? 'JWT' })
      .setIssuedAt(now)
      .setExpirationTime(now + (opts.expiresIn ?? 300))
      .sign(key)
  }

  /** Make a new signing key; the others stop signing and stay published for a day. */
  async rotate(): Promise<string> {
    const row = await addToolKey(this.sql, await newKey(), { retireOthers: true })
    this.#current = undefined
    return row.kid
  }

  async #ensure(): Promise<ToolKeyRow> {
    return (await signingKey(this.sql)) ?? addToolKey(this.sql, await newKey(), { onlyIfNone: true })
  }

  async #signer() {
    // Read again now and then: another instance (or the CLI) may have rotated the key.
    if (this.#current && Date.now() - this.#current.at < 60_000) return this.#current
    const row = await this.#ensure()
    this.#current = { kid: row.kid, key: await importJWK(row.privateJwk, 'RS256'), at: Date.now() }
    return this.#current
  }
}

async function newKey(): Promise<{ kid: string; privateJwk: JWK; publicJwk: JWK }> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { modulusLength: 2048, extractable: true })
  const kid = `sk-${new Date().toISOString().slice(0, 10)}-${randomBytes(4).toString('hex')}`
  return { kid, privateJwk: await exportJWK(privateKey), publicJwk: await exportJWK(publicKey) }
}
