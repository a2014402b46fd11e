import type { OutputLine } from '../runners.js'

/**
 * What the console shows: the first 1,000 lines (or 200,000 characters), then a count of the rest,
 * then the last errors after that (the one that ended the program). The rest is in the download.
 */
const SHOWN = { lines: 1000, chars: 200_000, lateErrors: 20 }
/** New lines drawn per animation frame while output streams in: each frame's work stays small. */
const LINES_PER_FRAME = 200

/**
 * The console's lines, filled as output arrives and drawn at most once a frame however fast it
 * comes: `update` asks the element to render `shown.slice(0, drawn)`, the count of `more` and the
 * `late` errors.
 */
export class ConsoleLines {
  shown: OutputLine[] = []
  /** Lines left out of the console (counted, not shown). */
  more = 0
  /** Errors after the cut, the last of them. */
  late: OutputLine[] = []
  /** How many of `shown` are drawn. */
  drawn = 0
  /** Changes whenever `late` does (for `guard`). */
  lateVersion = 0
  #chars = 0
  #cut = false
  #frame = 0

  constructor(private readonly update: () => void) {}

  get empty(): boolean {
    return !this.drawn && !this.more && !this.late.length
  }

  clear() {
    cancelAnimationFrame(this.#frame)
    this.#frame = 0
    this.shown = []
    this.#chars = 0
    this.#cut = false
    this.more = 0
    this.late = []
    this.drawn = 0
    this.lateVersion++
    this.update()
  }

  /** A line of output: shown, counted, or (an error after the cut) kept among the last errors. */
  take(line: OutputLine) {
    if (!this.#cut && this.shown.length < SHOWN.lines && this.#chars + line.text.length <= SHOWN.chars) {
      this.shown.push(line)
      this.#chars += line.text.length
    } else {
      this.#cut = true
      if (line.level === 'error') {
        this.late.push(line)
        this.lateVersion++
        if (this.late.length > SHOWN.lateErrors) {
          this.late.shift()
          this.more++
        }
      } else this.more++
    }
    this.#schedule()
  }

  omit(count: number) {
    this.#cut = true
    this.more += count
    this.#schedule()
  }

  /** Draw everything now (the run has ended, or the program waits for input). */
  draw() {
    cancelAnimationFrame(this.#frame)
    this.#frame = 0
    this.drawn = this.shown.length
    this.update()
  }

  #schedule() {
    this.#frame ||= requestAnimationFrame(() => {
      this.#frame = 0
      this.drawn = Math.min(this.shown.length, this.drawn + LINES_PER_FRAME)
      this.update()
      if (this.drawn < this.shown.length) this.#schedule()
    })
  }
}
