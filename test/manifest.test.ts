import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import { TAGS } from '@session-kit/elements/cdn.js'

interface Declaration {
  tagName?: string
  description?: string
  summary?: string
  attributes?: { name: string; description?: string }[]
  events?: { name: string }[]
  cssParts?: { name: string }[]
  cssProperties?: { name: string }[]
}

const root = new URL('../packages/elements/', import.meta.url)
const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as { customElements: string; files: string[] }
const manifest = JSON.parse(readFileSync(new URL(pkg.customElements, root), 'utf8')) as { modules: { declarations?: Declaration[] }[] }
const elements = new Map(manifest.modules.flatMap((m) => m.declarations ?? []).filter((d) => d.tagName).map((d) => [d.tagName!, d]))

describe('custom-elements.json (generated from the JSDoc contracts by the build)', () => {
  it('is referenced from package.json and shipped', () => {
    assert.equal(pkg.customElements, 'custom-elements.json')
    assert.ok(pkg.files.includes('custom-elements.json'))
  })

  it('describes every element the CDN registers, with a summary', () => {
    assert.deepEqual([...elements.keys()].sort(), [...TAGS].sort())
    for (const [tag, d] of elements) assert.ok((d.summary ?? d.description ?? '').length > 20, `<${tag}> has a description`)
  })

  it('carries attributes, events, parts and CSS properties', () => {
    const attrs = (tag: string) => elements.get(tag)!.attributes!.map((a) => a.name)
    assert.ok(['server', 'session', 'token', 'invite'].every((a) => attrs('session-room').includes(a)))
    assert.ok(['range', 'anonymize', 'failing-runs', 'idle-minutes'].every((a) => attrs('session-analytics').includes(a)))
    assert.ok(elements.get('session-snapshots')!.events!.some((e) => e.name === 'session-before-restore'))
    assert.ok(elements.get('session-room')!.events!.some((e) => e.name === 'session-status'))
    assert.ok(elements.get('session-analytics')!.cssParts!.some((p) => p.name === 'chart'))
    assert.ok(elements.get('session-editor')!.cssProperties!.length > 0)
  })
})
