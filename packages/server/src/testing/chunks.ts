import { deflateRawSync } from 'node:zlib'

/** Tests of what the server reads from raw Automerge chunks: building chunks Automerge would not. */

/** A number as ULEB128 bytes. */
export function uleb(n: number): number[] {
  const out: number[] = []
  do {
    let b = n & 0x7f
    n = Math.floor(n / 128)
    if (n) b |= 0x80
    out.push(b)
  } while (n)
  return out
}

/** A compressed-change chunk (type 2) with `change`'s magic and checksum around `deflated`. */
export function compressedChunk(change: Uint8Array, deflated: Uint8Array): Uint8Array {
  return new Uint8Array([...change.subarray(0, 8), 2, ...uleb(deflated.length), ...deflated])
}

/** The same change as a DEFLATE-compressed chunk, as Automerge accepts it. */
export function compressed(change: Uint8Array): Uint8Array {
  let p = 9
  let len = 0
  for (let shift = 0; ; shift += 7) {
    const b = change[p++]!
    len += (b & 0x7f) * 2 ** shift
    if (!(b & 0x80)) break
  }
  return compressedChunk(change, deflateRawSync(change.subarray(p, p + len)))
}
