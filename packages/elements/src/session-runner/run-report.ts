import { MAX_RUN_OUTPUT, type RunInfo } from '@session-kit/core'
import { OUTPUT_LIMITS, type OutputLine, type RunContext, type RunResult } from '../runners.js'

/** How far a runtime has come in downloading and starting (Python is several MB). */
export type RunProgress = Parameters<NonNullable<RunContext['onProgress']>>[0]

/** A line as people read it: errors with the line of code they came from. */
export const lineText = (l: OutputLine) => (l.level === 'error' && l.line ? `line ${l.line}: ${l.text}` : l.text)

/** 19000 → "19,000". */
export const formatCount = (n: number) => n.toLocaleString('en')

/** Room for "\n… 9,007,199,254,740,991 more lines" after a cut. */
const NOTE_ROOM = 40

/**
 * The output a run tells the room: all of it when it fits the protocol's MAX_RUN_OUTPUT characters,
 * otherwise the lines that fit and how many more there were.
 */
export function reportOutput(result: RunResult): string {
  const total = result.output.length + (result.omitted ?? 0)
  let out = ''
  let n = 0
  for (const l of result.output) {
    const next = n ? `${out}\n${lineText(l)}` : lineText(l)
    if (next.length > MAX_RUN_OUTPUT) break
    out = next
    n++
  }
  if (n === total) return out
  const budget = MAX_RUN_OUTPUT - NOTE_ROOM
  while (n > 0 && out.length > budget) {
    n--
    out = out.slice(0, Math.max(0, out.lastIndexOf('\n')))
  }
  if (n === 0 && result.output.length) {
    out = lineText(result.output[0]!).slice(0, budget - 1) + '…'
    n = 1
  }
  const note = `… ${formatCount(total - n)} more lines`
  return out ? `${out}\n${note}` : note
}

/**
 * The output as a text file: every line kept (the first 50,000 lines or 2 MB), and a last line
 * saying how many were left out.
 */
export function outputFile(result: RunResult): Blob {
  const parts: string[] = []
  let size = 0
  let left = result.omitted ?? 0
  for (const l of result.output) {
    const text = lineText(l)
    if (parts.length / 2 >= OUTPUT_LIMITS.lines + OUTPUT_LIMITS.lateErrors || size + text.length > OUTPUT_LIMITS.chars + OUTPUT_LIMITS.lateErrors * OUTPUT_LIMITS.line) {
      left++
      continue
    }
    parts.push(text, '\n')
    size += text.length + 1
  }
  if (left) parts.push(`… ${formatCount(left)} more lines were left out: the runner keeps the first 50,000 lines (2 MB) of output.\n`)
  return new Blob(parts, { type: 'text/plain;charset=utf-8' })
}

/** A run someone in the room made, as the activity list says it (the "verified" mark aside). */
export function activityText(r: RunInfo): string {
  const what = r.tests ? `ran tests on ${r.file}` : `ran ${r.file}`
  let result: string
  if (r.timedOut || r.status === 'timeout') result = 'stopped by the time limit'
  else if (r.tests && r.tests.passed + r.tests.failed === 0) result = r.errors ? 'no test ran (the code has an error)' : 'no test ran'
  else if (r.tests) result = `${r.tests.passed} of ${r.tests.passed + r.tests.failed} passed`
  else if (r.status === 'error') result = 'could not run'
  else result = r.errors ? `${r.errors} error${r.errors === 1 ? '' : 's'}` : 'no errors'
  return `${r.name} ${what} — ${result}`
}

/** "JavaScript", "Python": a language as people name it. */
export const languageName = (language: string, fallback: string) =>
  ({ javascript: 'JavaScript', typescript: 'TypeScript', python: 'Python', html: 'HTML', css: 'CSS' } as Record<string, string>)[language] ?? fallback

/** "Downloading Python — 2.1 of 6.3 MB (33 %)", then "Starting Python…". */
export function progressText(name: string, p: RunProgress): string {
  if (p.phase === 'start') return `Starting ${name}…`
  const mb = (n: number) => (n / 1_000_000).toFixed(1)
  if (!(p.total > 0)) return `Downloading ${name} — ${mb(p.loaded)} MB`
  return `Downloading ${name} — ${mb(p.loaded)} of ${mb(p.total)} MB (${Math.min(100, Math.floor((p.loaded / p.total) * 100))} %)`
}

/** What a test file for `file` would be named, by the conventions the runners know: "test_main.py", "main.test.js". */
export function exampleTestFile(file: string, language: string): string {
  const base = file.slice(file.lastIndexOf('/') + 1)
  const stem = base.includes('.') ? base.slice(0, base.lastIndexOf('.')) : base
  if (language === 'python') return `test_${stem}.py`
  return `${stem}.test.${language === 'typescript' ? 'ts' : 'js'}`
}
