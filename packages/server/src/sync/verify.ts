
import { FILE_NAME_PATTERN, Role } from '@session-kit/core'
import type { ActorState } from '../store/events.js'
import type { IncomingChange, RawOp } from './changes.js'
import { chars } from './limits.js'

/** What the verifier may ask about the document as the server holds it (durable changes and those being committed). */
export interface DocIndex {
  readonly filesObj: string
  /** The change is already held (folded into the document or accepted and not yet folded). */
  hasChange(hash: string): boolean
  /** For a text object: the file name it holds, or null if it no longer is a file. Undefined when no such text exists. */
  textFile(obj: string): string | null | undefined
  /** Whether a text object has (or had: deleted characters count) an element with this id. */
  hasElement(obj: string, elemId: string): boolean
  actor(actor: string): ActorState | undefined
  /** Files the document holds now, counting changes accepted and not folded yet. */
  fileCount(): number
}

export type RefusalCode = 'forbidden' | 'actor_mismatch' | 'invalid_change' | 'too_large'

export interface Refusal {
  ok: false
  code: RefusalCode
  message: string
  hash: string
}

/** What one accepted change adds to the index: texts it creates and text elements it inserts. */
export interface ChangeEffects {
  /** [text object id, file name] */
  texts: [string, string][]
  /** `${text object id}|${element id}` */
  elements: string[]
  /** Files added (+1 each) and deleted (−1 each). */
  files: number
}

/** What accepting a list of changes adds to the index, applied only if every change passes. */
export interface Accepted {
  ok: true
  /** The changes not already held, in the order given, each with its effects. */
  changes: IncomingChange[]
  effects: ChangeEffects[]
  actors: Map<string, ActorState>
}

const MAX_CHAR_UNITS = 8

/** Limits the verifier holds every message to (see SyncLimits). */
export interface VerifyLimits {
  /** Operations in all the changes of one message. */
  maxOps: number
  /** Files in the document. */
  maxFiles: number
}

/**
 * Check a writer's changes before anything is applied, stored or relayed. Only shapes our
 * documents use are accepted: text insertions and deletions in file texts, and (instructors only)
 * adding or removing file texts in the `files` map. Every referenced object, element, predecessor
 * and dependency must exist, and each actor's sequence must follow on, because Automerge panics on
 * changes that break these rules — a bad change must never reach the document, the database or
 * another peer. Costs O(ops) with O(1) lookups: no Automerge apply on the hot path.
 */
export function verifyChanges(index: DocIndex, incoming: readonly IncomingChange[], who: { userId: string; role: Role }, limits: VerifyLimits): Accepted | Refusal {
  const newTexts = new Map<string, string>()
  const elementSet = new Set<string>()
  const actors = new Map<string, ActorState>()
  const taken = new Set<string>()
  const changes: IncomingChange[] = []
  const effects: ChangeEffects[] = []

  let ops = 0
  /** Files added less files deleted by the changes so far; the document is asked only when one adds. */
  let filesDelta = 0
  const textFile = (obj: string) => (newTexts.has(obj) ? newTexts.get(obj)! : index.textFile(obj))
  const hasElement = (obj: string, elem: string) => elementSet.has(obj + '|' + elem) || index.hasElement(obj, elem)
  const knownText = (id: string) => textFile(id) !== undefined

  for (const item of incoming) {
    const c = item.change
    if (index.hasChange(c.hash) || taken.has(c.hash)) continue
    const refuse = (code: RefusalCode, message: string): Refusal => ({ ok: false, code, message, hash: c.hash })
    // The Intake held the message to this before decoding it; checked again on what was decoded.
    ops += c.ops.length
    if (ops > limits.maxOps) return refuse('too_large', `One edit may change at most ${chars(limits.maxOps)} characters.`)
    if (!/^[0-9a-f]{2,64}$/.test(c.actor)) return refuse('invalid_change', 'The change has an invalid actor id.')
    const prior = actors.get(c.actor) ?? index.actor(c.actor)
    if (prior && prior.userId !== who.userId) return refuse('actor_mismatch', 'This change is attributed to another participant: each Automerge actor belongs to one user.')
    if (c.seq !== (prior?.seq ?? 0) + 1) return refuse('invalid_change', 'The change is out of sequence for its actor.')
    if (prior && c.startOp <= prior.maxOp) return refuse('invalid_change', 'The change reuses operation ids.')
    if (!Number.isSafeInteger(c.startOp) || c.startOp < 1) return refuse('invalid_change', 'The change has an invalid start operation.')
    for (const dep of c.deps) if (!index.hasChange(dep) && !taken.has(dep)) return refuse('invalid_change', 'The change depends on changes the server does not have.')
    const effect: ChangeEffects = { texts: [], elements: [], files: 0 }

    for (let i = 0; i < c.ops.length; i++) {
      const op = c.ops[i] as unknown as RawOp
      const opId = `${c.startOp + i}@${c.actor}`
      if (op.obj === '_root') return refuse('forbidden', 'Changes to the root of the document are refused.')
      if (op.obj === index.filesObj) {
        if (who.role !== Role.Instructor) return refuse('forbidden', 'Learners edit the contents of files; adding, renaming or deleting files is for instructors.')
        if (typeof op.key !== 'string' || !FILE_NAME_PATTERN.test(op.key)) return refuse('invalid_change', 'A file needs a valid name.')
        if (!op.pred.every(knownText)) return refuse('invalid_change', 'The change replaces a file that does not exist.')
        if (op.action === 'makeText') {
          newTexts.set(opId, op.key)
          effect.texts.push([opId, op.key])
          if (op.pred.length === 0) effect.files++
        }
        else if (op.action !== 'del' || op.pred.length === 0) return refuse('invalid_change', 'The files map holds texts only: add a text or delete a file.')
        else effect.files--
        continue
      }
      if (textFile(op.obj) === undefined) return refuse('invalid_change', 'The change edits an object that does not exist.')
      if (op.action === 'set' && op.insert === true) {
        if (typeof op.value !== 'string' || op.value.length === 0 || op.value.length > MAX_CHAR_UNITS || (op.datatype !== undefined && op.datatype !== 'str')) {
          return refuse('invalid_change', 'Text can only hold characters.')
        }
        if (op.pred.length !== 0) return refuse('invalid_change', 'An insertion cannot replace anything.')
        if (op.elemId !== '_head' && (typeof op.elemId !== 'string' || !hasElement(op.obj, op.elemId))) return refuse('invalid_change', 'The change inserts after a character that does not exist.')
        elementSet.add(op.obj + '|' + opId)
        effect.elements.push(op.obj + '|' + opId)
      } else if (op.action === 'del' && typeof op.elemId === 'string' && op.multiOp === undefined) {
        if (!hasElement(op.obj, op.elemId)) return refuse('invalid_change', 'The change deletes a character that does not exist.')
        if (op.pred.length !== 1 || op.pred[0] !== op.elemId) return refuse('invalid_change', 'A deletion must name the character it deletes.')
      } else {
        return refuse('invalid_change', 'Only insertions and deletions of text are accepted in files.')
      }
    }
    filesDelta += effect.files
    if (effect.files > 0 && index.fileCount() + filesDelta > limits.maxFiles) return refuse('too_large', `A session holds at most ${limits.maxFiles} files.`)
    actors.set(c.actor, { userId: who.userId, seq: c.seq, maxOp: c.startOp + c.ops.length - 1 })
    taken.add(c.hash)
    changes.push(item)
    effects.push(effect)
  }
  return { ok: true, changes, effects, actors }
}
