import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import type { Frame, Page } from 'playwright-core'

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8')

/**
 * The serious and critical axe-core violations of a page or frame, as `rule: target` lines (empty
 * when clean). axe is evaluated over the DevTools protocol, so the page's own policy (no inline
 * scripts) stays as it is.
 */
export async function axeViolations(where: Page | Frame): Promise<string[]> {
  if (!(await where.evaluate('typeof axe === "object"'))) await where.evaluate(axeSource)
  const violations = await where.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run(ctx: unknown, opts: unknown): Promise<{ violations: { id: string; impact: string; nodes: { target: string[] }[] }[] }> } }).axe
    const r = await axe.run(document, { resultTypes: ['violations'] })
    return r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)
  })
  return violations
}

/** The views every whole page is checked in: a desktop and a phone width, light and dark. */
export const VIEWS = [
  { scheme: 'light', width: 1400 },
  { scheme: 'dark', width: 1400 },
  { scheme: 'light', width: 390 },
  { scheme: 'dark', width: 390 },
] as const

/** Opens every `<details>` on the page, in shadow roots too. */
// (Page scripts are strings: the test runner's compiler would wrap named functions in a helper
// that does not exist in the page.)
export const openEveryPanel = (where: Page | Frame) =>
  where.evaluate(`(() => {
    const walk = (root) => {
      for (const el of root.querySelectorAll('*')) {
        if (el.localName === 'details') el.open = true
        if (el.shadowRoot) walk(el.shadowRoot)
      }
    }
    walk(document)
  })()`)

/** axe's serious and critical violations with every panel open, once what the panels load (lists, the analytics chart) has had a moment to arrive. */
export async function openPanelViolations(where: Page | Frame): Promise<string[]> {
  await openEveryPanel(where)
  await where.waitForTimeout(800)
  return axeViolations(where)
}

/** Every shown editor on the page (or frame) is live with its code highlighted (languages load on demand). */
export async function editorsReady(where: Page | Frame) {
  const editors = where.locator('session-editor')
  const count = await editors.count()
  for (let i = 0; i < count; i++) {
    if (!(await editors.nth(i).isVisible())) continue
    await editors.nth(i).locator('.cm-editor').first().waitFor({ timeout: 30_000 })
    const text = (await editors.nth(i).locator('.cm-content').first().textContent()) ?? ''
    if (text.trim()) await editors.nth(i).locator('.cm-line span[class]').first().waitFor({ timeout: 15_000 })
  }
}

/**
 * axe over one page in each view (the same page resized and recoloured, so the room stays joined),
 * with every panel open; the failures name the view.
 */
export async function checkViews(page: Page, name: string, where: () => Page | Frame = () => page, views: readonly { scheme: 'light' | 'dark'; width: number }[] = VIEWS) {
  const failures: string[] = []
  for (const view of views) {
    await page.setViewportSize({ width: view.width, height: 900 })
    await page.emulateMedia({ colorScheme: view.scheme })
    const violations = await openPanelViolations(where())
    if (violations.length) failures.push(`${name} at ${view.width} px, ${view.scheme}:\n  ${violations.join('\n  ')}`)
  }
  assert.deepEqual(failures, [], failures.join('\n'))
}

