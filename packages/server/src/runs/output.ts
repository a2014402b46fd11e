/**
 * What a run printed, kept within bounds. A program that prints forever must neither fill the
 * sandbox's memory nor flood the server with messages: the first lines are kept, the rest are only
 * counted, and the outcome ends with "… N more lines".
 */
export type Stream = 'stdout' | 'stderr'
export interface OutputChunk {
  stream: Stream
  text: string
}

/** Lines kept per run (the characters kept are the engine's `outputLimit`). */
export const OUTPUT_LINES = 200
export const OUTPUT_CHARACTERS = 64 * 1024

/** Counts what is written and passes on only what fits; used inside the sandbox's thread. */
export class OutputCap {
  #keptCharacters = 0
  #keptNewlines = 0
  #keptPartial = false
  #newlines = 0
  #partial = false
  #full = false
  readonly #maxLines: number
  readonly #maxCharacters: number
  readonly #keep: (stream: Stream, text: string) => void
  readonly #onDropped: (lines: number) => void
  #toldAt = 0

  /**
   * `keep` receives what fits; `onDropped` hears how many lines were left out so far, at most every
   * 100 ms while output keeps coming (the sandbox may be stopped before it can say so at the end).
   */
  constructor(keep: (stream: Stream, text: string) => void, onDropped: (lines: number) => void, maxCharacters = OUTPUT_CHARACTERS, maxLines = OUTPUT_LINES) {
    this.#keep = keep
    this.#onDropped = onDropped
    this.#maxCharacters = maxCharacters
    this.#maxLines = maxLines
  }

  /** Lines written but not kept; a line cut short counts as kept, its rest is not counted again. */
  get dropped(): number {
    return this.#newlines + (this.#partial ? 1 : 0) - (this.#keptNewlines + (this.#keptPartial ? 1 : 0))
  }

  write(stream: Stream, text: string): void {
    if (!text) return
    const newlines = countNewlines(text)
    this.#newlines += newlines
    this.#partial = !text.endsWith('\n')
    if (this.#full) {
      const now = Date.now()
      if (now - this.#toldAt >= 100) {
        this.#toldAt = now
        this.#onDropped(this.dropped)
      }
      return
    }
    let end = 0
    let lines = this.#keptNewlines
    const room = this.#maxCharacters - this.#keptCharacters
    while (lines < this.#maxLines) {
      const newline = text.indexOf('\n', end)
      if (newline === -1 || newline + 1 > room) break
      end = newline + 1
      lines++
    }
    // Past the last whole line that fits: the rest of the text if there is room, cut at the limit.
    let cut = end
    if (lines < this.#maxLines && end < text.length) cut = Math.min(text.length, room)
    if (cut < text.length) this.#full = true
    if (cut <= 0) return
    const kept = text.slice(0, cut)
    this.#keptCharacters += kept.length
    this.#keptNewlines = lines
    this.#keptPartial = !kept.endsWith('\n')
    this.#keep(stream, kept)
  }
}

function countNewlines(text: string): number {
  let n = 0
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) n++
  return n
}

/** Joins chunks of one stream that follow each other and ends with the count of lines left out. */
export function collectOutput(chunks: OutputChunk[], dropped: number): OutputChunk[] {
  const out: OutputChunk[] = []
  for (const chunk of chunks) {
    const last = out[out.length - 1]
    if (last && last.stream === chunk.stream) last.text += chunk.text
    else out.push({ ...chunk })
  }
  if (dropped > 0) {
    const last = out[out.length - 1]
    const newline = last && !last.text.endsWith('\n') ? '\n' : ''
    out.push({ stream: 'stderr', text: `${newline}… ${dropped} more ${dropped === 1 ? 'line' : 'lines'}\n` })
  }
  return out
}
