import { lookup } from 'node:dns/promises'
import { isIP } from 'node:net'

/*
 * Where webhooks may be posted. An endpoint URL is chosen by whoever holds the API key, and the
 * server posts to it from inside its own network: without a check, it could reach the database
 * port, an admin page on localhost, or the cloud's metadata service (169.254.169.254) and its
 * credentials (SSRF). So the address a name resolves to is checked — when the endpoint is
 * registered and again before each delivery (a name may resolve elsewhere by then: DNS
 * rebinding) — and the delivery connects to exactly the address that was checked.
 */

/** A webhook target that may not be posted to (or cannot be found): a sentence and a code. */
export class WebhookTargetError extends Error {
  constructor(
    readonly code: 'webhook_url_private' | 'webhook_url_unresolvable' | 'webhook_url_invalid',
    message: string,
  ) {
    super(message)
    this.name = 'WebhookTargetError'
  }
}

type Range = [prefix: number[], bits: number, what: string]

/** IPv4 ranges that are not the public Internet (RFC 6890 and friends). */
const V4: Range[] = [
  [[0], 8, '"this network"'],
  [[10], 8, 'a private network'],
  [[100, 64], 10, 'shared address space (carrier-grade NAT; cloud metadata services live there too)'],
  [[127], 8, 'loopback'],
  [[169, 254], 16, 'link-local (where cloud metadata services answer)'],
  [[172, 16], 12, 'a private network'],
  [[192, 0, 0], 24, 'reserved for protocol assignments'],
  [[192, 0, 2], 24, 'reserved for documentation'],
  [[192, 88, 99], 24, 'a deprecated 6to4 relay'],
  [[192, 168], 16, 'a private network'],
  [[198, 18], 15, 'reserved for benchmarking'],
  [[198, 51, 100], 24, 'reserved for documentation'],
  [[203, 0, 113], 24, 'reserved for documentation'],
  [[224], 4, 'multicast'],
  [[240], 4, 'reserved'],
]

/** IPv6 ranges that are not the public Internet; those that embed an IPv4 address are checked by it. */
const V6: Range[] = [
  [[0x00, 0x64, 0xff, 0x9b, 0x00, 0x01], 48, 'local-use NAT64'],
  [[0x01, 0x00, 0, 0, 0, 0, 0, 0], 64, 'a discard prefix'],
  [[0x20, 0x01, 0x0d, 0xb8], 32, 'reserved for documentation'],
  [[0x20, 0x01, 0x00, 0x00], 32, 'Teredo tunnelling'],
  [[0x20, 0x01, 0x00], 23, 'reserved for protocol assignments'],
  [[0xfc], 7, 'unique local (a private network)'],
  [[0xfe, 0x80], 10, 'link-local'],
  [[0xfe, 0xc0], 10, 'site-local'],
  [[0xff], 8, 'multicast'],
]

function inRange(bytes: number[], [prefix, bits]: Range): boolean {
  for (let i = 0; i < bits; i += 8) {
    const take = Math.min(8, bits - i)
    const mask = (0xff << (8 - take)) & 0xff
    if (((bytes[i / 8] ?? 0) & mask) !== ((prefix[i / 8] ?? 0) & mask)) return false
  }
  return true
}

function v4Bytes(ip: string): number[] {
  return ip.split('.').map(Number)
}

/** The 16 bytes of an IPv6 address (a zone such as `%eth0` ignored; a dotted IPv4 tail read). */
function v6Bytes(ip: string): number[] {
  let text = ip.replace(/%.*$/, '').toLowerCase()
  let tail: number[] = []
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text)
  if (dotted) {
    tail = v4Bytes(dotted[1]!)
    text = text.slice(0, -dotted[1]!.length) + '0:0'
  }
  const [head, rest] = text.split('::') as [string, string | undefined]
  const groups = (s: string) => (s ? s.split(':').map((g) => parseInt(g || '0', 16)) : [])
  const left = groups(head)
  const right = rest === undefined ? [] : groups(rest)
  const words = [...left, ...Array<number>(Math.max(0, 8 - left.length - right.length)).fill(0), ...right]
  const bytes = words.flatMap((w) => [(w >> 8) & 0xff, w & 0xff])
  if (tail.length) bytes.splice(12, 4, ...tail)
  return bytes
}

const zeros = (bytes: number[], from: number, to: number) => bytes.slice(from, to).every((b) => b === 0)

/**
 * Why an IP address is not a public Internet address (loopback, a private network, link-local,
 * unique local, carrier-grade NAT, cloud metadata, multicast, reserved…), or undefined when it is
 * one. IPv4 inside IPv6 (mapped `::ffff:a.b.c.d`, compatible, NAT64, 6to4) is judged by its IPv4.
 */
export function privateAddressReason(ip: string): string | undefined {
  const family = isIP(ip.replace(/%.*$/, ''))
  if (family === 4) {
    if (ip === '255.255.255.255') return 'broadcast'
    return V4.find((r) => inRange(v4Bytes(ip), r))?.[2]
  }
  if (family !== 6) return 'not an IP address'
  const b = v6Bytes(ip)
  if (zeros(b, 0, 15) && b[15] === 0) return 'unspecified'
  if (zeros(b, 0, 15) && b[15] === 1) return 'loopback'
  const embedded = (from: number) => {
    const v4 = b.slice(from, from + 4).join('.')
    const why = privateAddressReason(v4)
    return why ? `${why}, as IPv4 ${v4} inside IPv6` : undefined
  }
  // ::ffff:a.b.c.d (mapped), ::a.b.c.d (compatible, deprecated), 64:ff9b::a.b.c.d (NAT64).
  if (zeros(b, 0, 10) && b[10] === 0xff && b[11] === 0xff) return embedded(12)
  if (zeros(b, 0, 12)) return embedded(12) ?? 'a deprecated IPv4-compatible address'
  if (inRange(b, [[0x00, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0], 96, ''])) return embedded(12)
  // 2002:a.b.c.d::/48 (6to4).
  if (b[0] === 0x20 && b[1] === 0x02) return embedded(2)
  return V6.find((r) => inRange(b, r))?.[2]
}

/** The host of a URL as an address or name (IPv6 literals without their brackets). */
export function urlHost(url: URL): string {
  return url.hostname.replace(/^\[(.*)\]$/, '$1')
}

/** Why a webhook URL cannot be used at all (before any lookup), or undefined. */
export function webhookUrlProblem(value: string): string | undefined {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    return 'must be a full URL, such as https://example.edu/hooks/session-kit'
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return 'must be an http or https URL'
  if (url.username || url.password) return 'must not hold a user name or password (deliveries are signed: check the signature instead)'
  if (!urlHost(url)) return 'must name a host'
  return undefined
}

/**
 * The address to post to for `url`: its IP, or what its name resolves to now. Unless private
 * targets are allowed, every address the name resolves to must be a public one (a name that
 * answers with both is refused: which one a connection takes is not ours to choose).
 */
export async function resolveWebhookTarget(url: URL, allowPrivate: boolean): Promise<{ address: string; family: 4 | 6 }> {
  const host = urlHost(url)
  const literal = isIP(host)
  let addresses: { address: string; family: number }[]
  if (literal) addresses = [{ address: host, family: literal }]
  else {
    try {
      addresses = await lookup(host, { all: true, verbatim: true })
    } catch (e) {
      throw new WebhookTargetError('webhook_url_unresolvable', `The host ${host} could not be found (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}).`)
    }
    if (!addresses.length) throw new WebhookTargetError('webhook_url_unresolvable', `The host ${host} has no address.`)
  }
  if (!allowPrivate) {
    for (const { address } of addresses) {
      const why = privateAddressReason(address)
      if (why) {
        const where = literal ? `points at ${address}` : `names ${host}, which resolves to ${address}`
        throw new WebhookTargetError('webhook_url_private', `The webhook URL ${where} (${why}): the server posts only to public Internet addresses (set SESSION_KIT_WEBHOOK_ALLOW_PRIVATE=1 in development).`)
      }
    }
  }
  const first = addresses[0]!
  return { address: first.address, family: first.family === 6 ? 6 : 4 }
}
