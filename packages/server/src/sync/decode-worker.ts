import { parentPort } from 'node:worker_threads'
import { readEntries } from './changes.js'

/**
 * The decoding thread: turns a large sync message's entries into individual decoded changes (see
 * decoder.ts). Its own Automerge instance; the room's document is never here, so whole-document
 * entries are read against the heads the room sends along.
 */
export interface DecodeJob {
  id: number
  entries: Uint8Array[]
  heads: string[]
}

export type DecodeReply = { id: number; changes: ReturnType<typeof readEntries> } | { id: number; error: string }

parentPort!.on('message', (job: DecodeJob) => {
  let reply: DecodeReply
  try {
    reply = { id: job.id, changes: readEntries(job.entries, { heads: job.heads, has: () => false }) }
  } catch (e) {
    reply = { id: job.id, error: (e as Error).message }
  }
  parentPort!.postMessage(reply)
})
