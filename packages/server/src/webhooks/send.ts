import { request as httpRequest, type ClientRequest, type IncomingMessage, type RequestOptions } from 'node:http'
import { request as httpsRequest } from 'node:https'
import type { LookupFunction } from 'node:net'
import { isIP } from 'node:net'
import { resolveWebhookTarget, urlHost } from './address.js'

/** The attempt was ended because the server is stopping: it says nothing of the endpoint. */
export class AbortedError extends Error {
  constructor() {
    super('The server stopped during the delivery.')
  }
}

/** What is kept of an endpoint's answer to say why it failed: its first kilobyte, no more is read. */
const ANSWER_BYTES = 1024

export interface PostOptions {
  /** The whole attempt — lookup, connection, answer — ends after this long. */
  timeoutMs: number
  allowPrivate: boolean
  /** Ends the attempt at once (the server is stopping). */
  signal?: AbortSignal
}

/** How an endpoint answered: its status, and the start of its body when it was not a success. */
export interface PostAnswer {
  status: number
  location?: string
  text: string
}

/**
 * Post one delivery, so that a hostile endpoint costs the server little: the name is resolved and
 * the address checked (resolveWebhookTarget), and the connection made to that very address (the
 * `lookup` is pinned: no second lookup can answer differently); no redirect is followed; a
 * success is taken at its status line and anything else read for at most a kilobyte; the
 * connection is always closed after (no keep-alive); the whole attempt has one deadline.
 * Resolves with the answer, or rejects with a sentence saying what went wrong.
 */
export function postWebhook(url: URL, headers: Record<string, string>, body: string, opts: PostOptions): Promise<PostAnswer> {
  return new Promise<PostAnswer>((resolve, reject) => {
    let req: ClientRequest | undefined
    let res: IncomingMessage | undefined
    let settled = false
    const finish = (err: Error | undefined, answer?: PostAnswer) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      opts.signal?.removeEventListener('abort', onAbort)
      // Whatever is still coming is not read: the connection goes.
      res?.destroy()
      req?.destroy()
      if (err) reject(err)
      else resolve(answer!)
    }
    /** The answer as read so far, once its status line came. */
    let soFar: (() => PostAnswer) | undefined
    const timer = setTimeout(() => finish(soFar ? undefined : new Error(`No answer within ${opts.timeoutMs / 1000} s.`), soFar?.()), opts.timeoutMs)
    const onAbort = () => finish(new AbortedError())
    if (opts.signal?.aborted) return onAbort()
    opts.signal?.addEventListener('abort', onAbort)

    resolveWebhookTarget(url, opts.allowPrivate).then(
      (target) => {
        if (settled) return
        const host = urlHost(url)
        const pinned: LookupFunction = (_hostname, options, callback) => {
          const cb = callback as (err: Error | null, address: string | { address: string; family: number }[], family?: number) => void
          if ((options as { all?: boolean }).all) cb(null, [{ address: target.address, family: target.family }])
          else cb(null, target.address, target.family)
        }
        const options: RequestOptions & { servername?: string } = {
          method: 'POST',
          host,
          port: url.port || (url.protocol === 'https:' ? 443 : 80),
          path: `${url.pathname}${url.search}`,
          headers: { ...headers, 'content-length': String(Buffer.byteLength(body)), connection: 'close' },
          agent: false,
          lookup: pinned,
          // The certificate is checked against the name in the URL, not the address connected to.
          ...(url.protocol === 'https:' && !isIP(host) ? { servername: host } : {}),
        }
        req = (url.protocol === 'https:' ? httpsRequest : httpRequest)(options, (answer) => {
          res = answer
          const status = answer.statusCode ?? 0
          if (status >= 200 && status <= 299) return finish(undefined, { status, text: '' })
          const chunks: Buffer[] = []
          let size = 0
          soFar = () => ({ status, location: answer.headers.location, text: Buffer.concat(chunks).toString('utf8').slice(0, ANSWER_BYTES) })
          const done = () => finish(undefined, soFar!())
          answer.on('data', (chunk: Buffer) => {
            chunks.push(chunk)
            size += chunk.length
            if (size >= ANSWER_BYTES) done()
          })
          answer.on('end', done)
          answer.on('error', done)
        })
        req.on('error', (e: NodeJS.ErrnoException) => finish(new Error(e.code ? `${e.code}: ${e.message}` : e.message)))
        req.end(body)
      },
      (e: Error) => finish(e),
    )
  })
}
