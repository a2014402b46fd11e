/** One line of a diff: kept, only in the old text (`del`), or only in the new (`add`). */
export interface DiffLine {
  kind: 'same' | 'add' | 'del'
  text: string
}

/** Above this many line pairs the diff is not searched: the old text goes, the new comes. */
const MAX_CELLS = 2_000_000

/**
 * The lines that differ between two texts (a longest common subsequence of lines): small enough
 * for starter files, and no library on the page.
 */
export function lineDiff(before: string, after: string): DiffLine[] {
  const a = before.split('\n')
  const b = after.split('\n')
  // The common head and tail need no table.
  let head = 0
  while (head < a.length && head < b.length && a[head] === b[head]) head++
  let tail = 0
  while (tail < a.length - head && tail < b.length - head && a[a.length - 1 - tail] === b[b.length - 1 - tail]) tail++
  const x = a.slice(head, a.length - tail)
  const y = b.slice(head, b.length - tail)
  const middle: DiffLine[] = []
  if (x.length * y.length > MAX_CELLS) {
    for (const text of x) middle.push({ kind: 'del', text })
    for (const text of y) middle.push({ kind: 'add', text })
  } else {
    const n = x.length
    const m = y.length
    // lcs[i][j]: the common length of x[i..] and y[j..], in one flat array.
    const lcs = new Uint32Array((n + 1) * (m + 1))
    for (let i = n - 1; i >= 0; i--) {
      for (let j = m - 1; j >= 0; j--) {
        lcs[i * (m + 1) + j] = x[i] === y[j] ? lcs[(i + 1) * (m + 1) + j + 1]! + 1 : Math.max(lcs[(i + 1) * (m + 1) + j]!, lcs[i * (m + 1) + j + 1]!)
      }
    }
    let i = 0
    let j = 0
    while (i < n || j < m) {
      if (i < n && j < m && x[i] === y[j]) {
        middle.push({ kind: 'same', text: x[i]! })
        i++
        j++
      } else if (j < m && (i === n || lcs[i * (m + 1) + j + 1]! >= lcs[(i + 1) * (m + 1) + j]!)) {
        middle.push({ kind: 'add', text: y[j++]! })
      } else {
        middle.push({ kind: 'del', text: x[i++]! })
      }
    }
  }
  return [...a.slice(0, head).map((text) => ({ kind: 'same' as const, text })), ...middle, ...a.slice(a.length - tail).map((text) => ({ kind: 'same' as const, text }))]
}

/** The changed lines with `context` kept lines around each change; `null` stands for lines left out. */
export function withContext(lines: DiffLine[], context = 2): (DiffLine | null)[] {
  const keep = lines.map((l) => l.kind !== 'same')
  const near = lines.map((_, i) => keep.slice(Math.max(0, i - context), i + context + 1).some(Boolean))
  const out: (DiffLine | null)[] = []
  lines.forEach((l, i) => {
    if (near[i]) out.push(l)
    else if (out[out.length - 1] !== null) out.push(null)
  })
  return out
}
