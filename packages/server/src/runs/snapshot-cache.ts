/**
 * The Python start-up image kept on disk, so a restarted server (or the next process on the same
 * machine) restores it in about a second instead of booting Python to make it again (5–10 s of a
 * core). The image is only as trustworthy as the folder it sits in: the folder is this user's
 * alone (0700, owned by us, checked before every read), each file carries its SHA-256, and the name
 * holds everything the image depends on (Pyodide's version, the worker that made it, Node's).
 *
 * `SESSION_KIT_RUN_CACHE_DIR` chooses the folder (default: `<tmp>/session-kit-<uid>`); `off` keeps
 * nothing on disk. Any failure to read or write only means the image is made again.
 */
import { createHash } from 'node:crypto'
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const DIGEST_BYTES = 32

export function snapshotCacheDir(env: NodeJS.ProcessEnv = process.env): string | null {
  const chosen = env.SESSION_KIT_RUN_CACHE_DIR
  if (chosen === 'off') return null
  return chosen || join(tmpdir(), `session-kit-${process.getuid?.() ?? 'user'}`)
}

/** The file for an image made from these inputs. */
export function snapshotFile(dir: string, inputs: readonly string[]): string {
  const key = createHash('sha256').update(inputs.join('\0')).digest('hex').slice(0, 24)
  return join(dir, `python-snapshot-${key}.bin`)
}

/** The folder, made if needed, when it is ours alone; null otherwise. */
function ownFolder(dir: string): string | null {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 })
    const s = statSync(dir)
    const uid = process.getuid?.()
    if (!s.isDirectory() || (uid !== undefined && s.uid !== uid) || (s.mode & 0o077) !== 0) return null
    return dir
  } catch {
    return null
  }
}

export function readSnapshot(dir: string, file: string): Uint8Array | null {
  if (!ownFolder(dir)) return null
  try {
    const bytes = readFileSync(file)
    if (bytes.length <= DIGEST_BYTES) return null
    const body = bytes.subarray(0, bytes.length - DIGEST_BYTES)
    const digest = createHash('sha256').update(body).digest()
    if (!digest.equals(bytes.subarray(bytes.length - DIGEST_BYTES))) return null
    return new Uint8Array(body.buffer, body.byteOffset, body.byteLength)
  } catch {
    return null
  }
}

export function writeSnapshot(dir: string, file: string, image: Uint8Array): void {
  if (!ownFolder(dir)) return
  const partial = `${file}.${process.pid}.partial`
  try {
    writeFileSync(partial, Buffer.concat([image, createHash('sha256').update(image).digest()]), { mode: 0o600 })
    // Whole or not at all: a reader never sees half a file.
    renameSync(partial, file)
  } catch {
    // A full or read-only disk: the next process makes the image again.
  }
}
