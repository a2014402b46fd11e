const rtf = typeof Intl !== 'undefined' ? new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' }) : null
const UNITS: [Intl.RelativeTimeFormatUnit, number][] = [
  ['year', 31_536_000],
  ['month', 2_592_000],
  ['week', 604_800],
  ['day', 86_400],
  ['hour', 3_600],
  ['minute', 60],
]

/** "just now", "5 minutes ago", "in 2 days". */
export function relativeTime(at: string | Date | number, now = Date.now()): string {
  const seconds = Math.round((new Date(at).getTime() - now) / 1000)
  if (Math.abs(seconds) < 45) return 'just now'
  for (const [unit, size] of UNITS) {
    if (Math.abs(seconds) >= size || unit === 'minute') return rtf ? rtf.format(Math.round(seconds / size), unit) : `${Math.round(seconds / size)} ${unit}s`
  }
  return 'just now'
}

/** Up to two initials for an avatar. */
export function initials(name: string): string {
  const parts = name.replace(/\(.*?\)/g, '').trim().split(/\s+/).filter(Boolean)
  return ((parts[0]?.[0] ?? '?') + (parts.length > 1 ? parts[parts.length - 1]![0] : '')).toUpperCase()
}

export type TextPart = string | { href: string; text: string }

const URL_PATTERN = /\bhttps?:\/\/[^\s<>"'`]+/gi

/**
 * Split chat text into plain text and links. Only http(s) URLs become links; everything is
 * rendered as text by Lit, so markup in a message is shown, never interpreted.
 */
export function linkify(text: string): TextPart[] {
  const parts: TextPart[] = []
  let last = 0
  for (const m of text.matchAll(URL_PATTERN)) {
    let raw = m[0]
    // Leave trailing punctuation out of the link ("see https://x.org.").
    raw = raw.replace(/[.,;:!?)\]]+$/, '')
    const start = m.index!
    try {
      const url = new URL(raw)
      if (url.protocol !== 'http:' && url.protocol !== 'https:') continue
      if (start > last) parts.push(text.slice(last, start))
      parts.push({ href: url.href, text: raw })
      last = start + raw.length
    } catch {
      // Not a URL after all: keep it as text.
    }
  }
  if (last < text.length) parts.push(text.slice(last))
  return parts
}

/** "45 s", "12 min", "1 h 05 min". */
export function duration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds))
  if (s < 60) return `${s} s`
  const m = Math.floor(s / 60)
  if (m < 60) return `${m} min`
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, '0')} min`
}

/** "1 minute", "3 minutes": a count with its noun, plural when it is not one. */
export function count(n: number, singular: string, plural = `${singular}s`): string {
  return `${n.toLocaleString()} ${n === 1 ? singular : plural}`
}

/** "14:02" today, "Mon 3 Mar, 14:02" another day. */
export function clockTime(at: string | number | Date, now = new Date()): string {
  const d = new Date(at)
  const time = d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })
  return d.toDateString() === now.toDateString() ? time : `${d.toLocaleDateString([], { weekday: 'short', day: 'numeric', month: 'short' })}, ${time}`
}

/**
 * What a live region is set to for `text` after `before`: a region reads only a change, so the
 * same words again differ invisibly (a zero-width space) and are read again.
 */
export function sayAgain(before: string, text: string): string {
  return text === before ? text + '\u200b' : text
}
