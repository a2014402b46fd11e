import { html, nothing, type TemplateResult } from 'lit'

/**
 * Instructions as an instructor writes them, drawn safely: a small Markdown subset (headings,
 * paragraphs, lists, quotes, fenced code, `code`, **strong**, *emphasis*, links, rules) turned
 * straight into Lit templates. No HTML string is ever built or parsed, so markup in the text is
 * shown as text, never run; links are kept only for http(s) and mailto addresses.
 *
 * Why not a library: `marked` passes raw HTML through (it needs a sanitizer beside it, ~20 kB
 * gzip together) and `micromark` is safe but ~15 kB gzip for a syntax instructions barely use.
 * This subset is about 1 kB, and safe by construction rather than by cleaning.
 */
export function markdown(source: string, opts: { headingOffset?: number } = {}): TemplateResult {
  return html`${blocks(source.replace(/\r\n?/g, '\n').split('\n'), opts.headingOffset ?? 2)}`
}

type Block = TemplateResult

const FENCE = /^\s{0,3}(`{3,}|~{3,})\s*([\w+-]*)/
const HEADING = /^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$/
const RULE = /^\s{0,3}([-*_])(\s*\1){2,}\s*$/
const QUOTE = /^\s{0,3}>\s?/
const BULLET = /^\s{0,3}[-*+]\s+/
const NUMBERED = /^\s{0,3}(\d{1,9})[.)]\s+/

function blocks(lines: string[], offset: number): Block[] {
  const out: Block[] = []
  let i = 0
  while (i < lines.length) {
    const line = lines[i]!
    if (!line.trim()) {
      i++
      continue
    }
    const fence = FENCE.exec(line)
    if (fence) {
      const close = new RegExp(`^\\s{0,3}${fence[1]![0]}{${fence[1]!.length},}\\s*$`)
      const code: string[] = []
      for (i++; i < lines.length && !close.test(lines[i]!); i++) code.push(lines[i]!)
      i++
      out.push(html`<pre><code data-language=${fence[2] || nothing}>${code.join('\n')}</code></pre>`)
      continue
    }
    const heading = HEADING.exec(line)
    if (heading) {
      out.push(headingOf(Math.min(6, heading[1]!.length + offset), inline(heading[2]!)))
      i++
      continue
    }
    if (RULE.test(line)) {
      out.push(html`<hr />`)
      i++
      continue
    }
    if (QUOTE.test(line)) {
      const quoted: string[] = []
      for (; i < lines.length && QUOTE.test(lines[i]!); i++) quoted.push(lines[i]!.replace(QUOTE, ''))
      out.push(html`<blockquote>${blocks(quoted, offset)}</blockquote>`)
      continue
    }
    const list = BULLET.test(line) ? BULLET : NUMBERED.test(line) ? NUMBERED : null
    if (list) {
      const start = list === NUMBERED ? Number(NUMBERED.exec(line)![1]) : 1
      const items: string[][] = []
      while (i < lines.length) {
        const l = lines[i]!
        if (list.test(l)) items.push([l.replace(list, '')])
        // A line indented under an item (or a lazy continuation) belongs to it.
        else if (l.trim() && (/^\s{2,}/.test(l) || !startsBlock(l))) items[items.length - 1]!.push(l.trim())
        else if (!l.trim() && i + 1 < lines.length && (list.test(lines[i + 1]!) || /^\s{2,}\S/.test(lines[i + 1]!))) {
          // A blank line between items keeps the list going.
        } else break
        i++
      }
      const lis = items.map((item) => html`<li>${inline(item.join(' '))}</li>`)
      out.push(list === NUMBERED ? html`<ol start=${start === 1 ? nothing : start}>${lis}</ol>` : html`<ul>${lis}</ul>`)
      continue
    }
    const para: string[] = []
    for (; i < lines.length && lines[i]!.trim() && (para.length === 0 || !startsBlock(lines[i]!)); i++) para.push(lines[i]!.trim())
    out.push(html`<p>${inline(para.join(' '))}</p>`)
  }
  return out
}

const startsBlock = (line: string) => FENCE.test(line) || HEADING.test(line) || RULE.test(line) || QUOTE.test(line) || BULLET.test(line) || NUMBERED.test(line)

function headingOf(level: number, content: unknown): Block {
  switch (level) {
    case 1:
      return html`<h1>${content}</h1>`
    case 2:
      return html`<h2>${content}</h2>`
    case 3:
      return html`<h3>${content}</h3>`
    case 4:
      return html`<h4>${content}</h4>`
    case 5:
      return html`<h5>${content}</h5>`
    default:
      return html`<h6>${content}</h6>`
  }
}

// `code`, **strong** / __strong__, *em* / _em_, [text](url), <https://…>, a backslash escape.
const INLINE = /(`+)([\s\S]+?)\1|\*\*(?=\S)([\s\S]+?)\*\*|__(?=\S)([\s\S]+?)__|\*(?=\S)([\s\S]+?)\*|(?<![\w])_(?=\S)([\s\S]+?)_(?![\w])|!?\[([^\]]*)\]\(\s*<?([^\s)>]*)>?(?:\s+(?:"[^"]*"|'[^']*'))?\s*\)|<((?:https?:\/\/|mailto:)[^\s>]+)>|\\([\\`*_{}[\]()#+\-.!>~|])/

function inline(text: string): unknown[] {
  const parts: unknown[] = []
  let rest = text
  while (rest) {
    const m = INLINE.exec(rest)
    if (!m) {
      parts.push(rest)
      break
    }
    if (m.index > 0) parts.push(rest.slice(0, m.index))
    if (m[1]) parts.push(html`<code>${m[2]!.trim() || m[2]}</code>`)
    else if (m[3] ?? m[4]) parts.push(html`<strong>${inline((m[3] ?? m[4])!)}</strong>`)
    else if (m[5] ?? m[6]) parts.push(html`<em>${inline((m[5] ?? m[6])!)}</em>`)
    else if (m[7] !== undefined) parts.push(link(m[8] ?? '', inline(m[7] || m[8] || '')))
    else if (m[9]) parts.push(link(m[9], m[9]))
    else parts.push(m[10])
    rest = rest.slice(m.index + m[0].length)
  }
  return parts
}

/** A link when the address is http(s) or mailto; otherwise only its text (no `javascript:`, no `data:`). */
function link(href: string, content: unknown): unknown {
  const safe = safeUrl(href)
  return safe ? html`<a href=${safe} target="_blank" rel="noopener noreferrer">${content}</a>` : content
}

export function safeUrl(href: string): string | null {
  try {
    const url = new URL(href)
    return url.protocol === 'http:' || url.protocol === 'https:' || url.protocol === 'mailto:' ? url.href : null
  } catch {
    return null
  }
}
