#!/usr/bin/env node
// The element reference (docs/site/elements.md) from @session-kit/elements/custom-elements.json:
// per element its attributes, events, slots, parts and CSS custom properties. Run by `npm run docs`.
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const manifest = JSON.parse(readFileSync(`${root}packages/elements/custom-elements.json`, 'utf8'))
const cell = (s) => String(s ?? '').replace(/\|/g, '\\|').replace(/\s*\n\s*/g, ' ')
const code = (s) => (s ? '`' + cell(s) + '`' : '')

const elements = manifest.modules
  .flatMap((m) => m.declarations ?? [])
  .filter((d) => d.tagName)
  .sort((a, b) => a.tagName.localeCompare(b.tagName))

// Pictures taken by the examples' end-to-end test (test/e2e/examples.test.ts), when it has run.
const shots = `${root}test-results/screenshots/elements`
mkdirSync(`${root}docs/site/screenshots`, { recursive: true })
const picture = (tag) => {
  if (!existsSync(`${shots}/${tag}.png`)) return null
  copyFileSync(`${shots}/${tag}.png`, `${root}docs/site/screenshots/${tag}.png`)
  return `![<${tag}> in the LMS course page example](screenshots/${tag}.png)`
}

const out = ['# Element reference', '', 'Generated from `custom-elements.json` by `npm run docs`. Every element also takes `theme="light|dark"`.', '']
for (const d of elements) out.push(`- [\`<${d.tagName}>\`](#${d.tagName})`)
for (const d of elements) {
  out.push('', `## <a id="${d.tagName}"></a>\`<${d.tagName}>\``, '')
  if (d.summary) out.push(`**${cell(d.summary)}**`, '')
  const img = picture(d.tagName)
  if (img) out.push(img, '')
  if (d.description) out.push(d.description.trim(), '')
  const attrs = (d.attributes ?? []).filter((a) => a.name)
  if (attrs.length) {
    out.push('| attribute | property | type | default | description |', '| --- | --- | --- | --- | --- |')
    for (const a of attrs) out.push(`| ${code(a.name)} | ${code(a.fieldName)} | ${code(a.type?.text)} | ${code(a.default)} | ${cell(a.description)} |`)
    out.push('')
  }
  const events = [...new Map((d.events ?? []).filter((e) => typeof e.name === 'string' && e.name.startsWith('session-')).map((e) => [e.name, e])).values()]
  if (events.length) {
    out.push('| event | type | description |', '| --- | --- | --- |')
    for (const e of events) out.push(`| ${code(e.name)} | ${code(e.type?.text)} | ${cell(e.description)} |`)
    out.push('')
  }
  for (const [key, title] of [
    ['slots', 'slot'],
    ['cssParts', 'part'],
    ['cssProperties', 'CSS property'],
  ]) {
    const items = d[key] ?? []
    if (!items.length) continue
    out.push(`| ${title} | description |`, '| --- | --- |')
    for (const s of items) out.push(`| ${code(s.name || '(default)')} | ${cell(s.description)} |`)
    out.push('')
  }
}
writeFileSync(`${root}docs/site/elements.md`, out.join('\n') + '\n')
console.log(`wrote docs/site/elements.md (${elements.length} elements)`)
