import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { Browser, Page } from 'playwright-core'
import { startTestServer, type TestServer } from '@session-kit/server/testing'
import { editorValue, launch, watch } from './browser.js'

// The demo page (instructor, learner and observer side by side) used with the keyboard only: after
// the page loads, nothing is clicked or focused by script — only Tab, Shift+Tab, Enter, Space,
// arrows, Escape and typing.

// (Page scripts are strings: the test runner's compiler would wrap named functions in a helper
// that does not exist in the page.)
/** The focused element, through shadow roots: a description, and whether its focus can be seen. */
const FOCUSED = `(() => {
  let el = document.activeElement
  while (el && el.shadowRoot && el.shadowRoot.activeElement) el = el.shadowRoot.activeElement
  if (!el || el === document.body || el === document.documentElement) return null
  const seen = (e) => {
    const s = getComputedStyle(e)
    return (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0) || s.boxShadow !== 'none'
  }
  // The code's focus ring is drawn on the editor around the focused text.
  const ring = el.closest('.cm-editor') ?? el
  const hosts = []
  let top = el
  while (top.getRootNode().host) {
    top = top.getRootNode().host
    hosts.unshift(top.localName)
  }
  const pane = top.closest('session-room')?.dataset.role
  const name = (el.getAttribute('aria-label') || el.textContent || el.getAttribute('name') || '').replace(/\\s+/g, ' ').trim().slice(0, 40)
  const part = el.getAttribute('part')
  // Each element its own key, to tell a stop that keeps focus from two alike in a row.
  const ids = (window.skStops ??= { map: new WeakMap(), next: 0 })
  if (!ids.map.has(el)) ids.map.set(el, ++ids.next)
  return {
    key: String(ids.map.get(el)),
    desc: (pane ? pane + ': ' : '') + [...hosts, el.localName + (part ? '[part=' + part + ']' : '') + (el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\\s+/).join('.') : '')].join(' > ') + (name ? ' “' + name + '”' : ''),
    visible: seen(el) || seen(ring),
    role: el.getAttribute('role'),
    closed: el.localName === 'summary' && !el.parentElement.open,
  }
})()`

interface Focused {
  key: string
  desc: string
  visible: boolean
  role: string | null
  /** A closed disclosure's summary. */
  closed: boolean
}

describe('keyboard only, on the demo page', () => {
  let server: TestServer
  let browser: Browser
  let page: Page
  let problems: string[]
  before(async () => {
    server = await startTestServer('pglite', { demo: true })
    browser = await launch()
    page = await browser.newPage({ viewport: { width: 1500, height: 900 } })
    problems = await watch(page)
    await page.goto(server.url + '/')
    for (const role of ['instructor', 'learner', 'observer']) await page.locator(`session-room[data-role="${role}"] session-editor .editor.live`).first().waitFor({ timeout: 20_000 })
  })
  after(async () => {
    await browser?.close()
    await server?.stop()
  })

  const focused = () => page.evaluate(FOCUSED) as Promise<Focused | null>
  /** Start from the top of the page, as after a load. */
  async function fromTop() {
    await page.evaluate(`(() => { document.activeElement?.blur?.(); let el = document.activeElement; while (el?.shadowRoot?.activeElement) el = el.shadowRoot.activeElement; el?.blur?.(); window.scrollTo(0, 0) })()`)
    await page.locator('body').focus()
  }

  /** Tab (or Shift+Tab) until the focused element's description matches; fails naming the stops passed. */
  async function tabTo(want: RegExp, { back = false, max = 90 } = {}): Promise<Focused> {
    const passed: string[] = []
    for (let i = 0; i < max; i++) {
      await page.keyboard.press(back ? 'Shift+Tab' : 'Tab')
      const f = await focused()
      if (f && want.test(f.desc)) return f
      passed.push(f?.desc ?? '(the page)')
    }
    assert.fail(`${want} not reached by ${back ? 'Shift+Tab' : 'Tab'}; passed:\n${passed.join('\n')}`)
  }
  async function until(fn: () => Promise<boolean>, what: string, ms = 10_000) {
    const t0 = Date.now()
    while (Date.now() - t0 < ms) {
      if (await fn()) return
      await page.waitForTimeout(50)
    }
    assert.fail(`timed out waiting for ${what}`)
  }
  const pane = (role: string) => page.locator(`session-room[data-role="${role}"]`)
  const code = (role: string) => pane(role).locator('session-editor[file="main.js"]')
  const text = async (l: ReturnType<Page['locator']>) => ((await l.textContent()) ?? '').replace(/\s+/g, ' ').trim()
  const indicator = (role: string) => text(code(role).locator('[part=indicator]'))
  const LEARNER_CODE = /^learner: session-editor > div\.cm-content/
  const OBSERVER_CODE = /^observer: session-editor > div\.cm-content/

  it('a learner reaches the code by Tab, edits after Enter, and Escape then Tab moves on', async () => {
    await fromTop()
    await tabTo(LEARNER_CODE)
    assert.match(await text(code('learner').locator('.sk-keys-hint')), /Press Enter to edit the code, or Tab to move on/)
    // Browsing: Tab moves on and Shift+Tab comes back, the code untouched.
    const before = await editorValue(code('learner'))
    assert.match((await tabTo(/./)).desc, /^learner: session-runner > button.*“Run main\.js”/)
    await tabTo(LEARNER_CODE, { back: true, max: 1 })
    // Enter starts editing: Tab now indents and stays in the code…
    await page.keyboard.press('Enter')
    assert.equal(await editorValue(code('learner')), before, 'Enter only starts editing')
    await page.keyboard.press('Tab')
    assert.match((await focused())?.desc ?? '', LEARNER_CODE)
    const indented = await editorValue(code('learner'))
    assert.notEqual(indented, before, 'Tab indented')
    // Every pane shows the indent, then its undo, so the next test starts from the same code everywhere.
    const everyPane = (value: string) => async () => (await Promise.all(['learner', 'observer', 'instructor'].map((r) => editorValue(code(r))))).every((v) => v === value)
    await until(everyPane(indented), 'the indent in every pane')
    await page.keyboard.press('Control+z')
    await until(everyPane(before), 'the indent undone in every pane')
    // …until Escape: then Tab moves on.
    await page.keyboard.press('Escape')
    assert.match((await tabTo(/./)).desc, /^learner: session-runner > button.*“Run main\.js”/, 'not a keyboard trap')
  })

  it('an observer reaches the read-only code by Tab and moves through it line by line with the arrows', async () => {
    await fromTop()
    await tabTo(OBSERVER_CODE)
    const line = () => text(code('observer').locator('.cm-activeLineGutter'))
    assert.equal(await line(), '1')
    await page.keyboard.press('ArrowDown')
    await page.keyboard.press('ArrowDown')
    await until(async () => (await line()) === '3', 'the third line is the current one')
    await page.keyboard.press('ArrowUp')
    await until(async () => (await line()) === '2', 'back to the second line')
    // Nothing to edit here: Enter neither edits nor traps; Tab moves on.
    const before = await editorValue(code('observer'))
    await page.keyboard.press('Enter')
    assert.equal(await editorValue(code('observer')), before)
    assert.match((await tabTo(/./)).desc, /^observer: session-runner > div\[part=output\]/)
  })

  it('a learner runs the code with Enter on Run, then reads and scrolls the output from the keyboard', async () => {
    await fromTop()
    await tabTo(LEARNER_CODE)
    await page.keyboard.press('Enter')
    await page.keyboard.press('Control+End')
    await page.keyboard.type("\nfor (let i = 1; i <= 60; i++) console.log('line ' + i)")
    await page.keyboard.press('Escape')
    assert.match((await tabTo(/./)).desc, /“Run main\.js”/)
    await page.keyboard.press('Enter')
    const output = pane('learner').locator('session-runner[file="main.js"] [part~=output]')
    await until(async () => (await text(output)).includes('line 60'), 'the output of the run', 20_000)
    const log = await tabTo(/^learner: session-runner > div\[part=output\]/, { max: 4 })
    assert.equal(log.role, 'log')
    const scroll = () => output.evaluate((e) => ({ top: e.scrollTop, room: e.scrollHeight - e.clientHeight }))
    assert.ok((await scroll()).room > 100, 'the output is long enough to scroll')
    await page.keyboard.press('Home')
    await until(async () => (await scroll()).top === 0, 'Home scrolls to the top')
    await page.keyboard.press('PageDown')
    await until(async () => (await scroll()).top > 50, 'PageDown scrolls')
    const top = (await scroll()).top
    await page.keyboard.press('ArrowDown')
    await until(async () => (await scroll()).top > top, 'ArrowDown scrolls')
  })

  it('a learner chats: Tab to the message, type, Enter sends, and every pane shows it', async () => {
    await fromTop()
    await tabTo(/^learner: session-chat > textarea/)
    await page.keyboard.type('Sent with the keyboard')
    await page.keyboard.press('Enter')
    for (const role of ['instructor', 'observer', 'learner']) {
      await until(async () => (await text(pane(role).locator('session-chat [part=messages]'))).includes('Sent with the keyboard'), `the message in the ${role} pane`)
    }
    assert.equal(await pane('learner').locator('session-chat textarea').inputValue(), '')
  })

  it('a learner raises a hand with a question; the instructor sees it and lowers it, all by keyboard', async () => {
    await fromTop()
    await tabTo(/^learner: session-room > button\[part=hand-button\] “Raise hand”/)
    await page.keyboard.press('Enter')
    await until(async () => /^learner: session-room > input/.test((await focused())?.desc ?? ''), 'the question field has focus')
    await page.keyboard.type('How do loops work?')
    await page.keyboard.press('Enter')
    await until(async () => /^learner: session-room > button\[part=hand-button\] “Lower hand”/.test((await focused())?.desc ?? ''), 'focus on Lower hand')
    const hands = pane('instructor').locator('session-moderation [part=hands]')
    await until(async () => (await text(hands)).includes('How do loops work?'), 'the instructor sees the hand')
    await fromTop()
    await tabTo(/^instructor: session-moderation > button “Lower Grace/)
    await page.keyboard.press('Enter')
    await until(async () => (await text(hands)).includes('No hands raised'), 'the hand lowered')
    await until(async () => (await text(pane('learner').locator('[part~=hand-button]'))) === 'Raise hand', 'the learner can raise it again')
  })

  it('the instructor mutes the learner and locks editing by keyboard; the learner pane follows', async () => {
    await fromTop()
    await tabTo(/^instructor: session-moderation > button “Mute Grace/)
    await page.keyboard.press('Space')
    await until(async () => (await indicator('learner')) === 'Muted', 'the learner muted')
    await until(async () => /“Unmute Grace/.test((await focused())?.desc ?? ''), 'focus stays on the button, now Unmute')
    await page.keyboard.press('Enter')
    await until(async () => (await indicator('learner')) === 'Editing', 'the learner unmuted')
    await tabTo(/^instructor: session-moderation > button.* “Lock learner editing”/, { back: true, max: 10 })
    await page.keyboard.press('Enter')
    await until(async () => (await indicator('learner')) === 'Editing locked by instructor', 'learner editing locked')
    await until(async () => /“Unlock learner editing”/.test((await focused())?.desc ?? ''), 'focus stays on the button, now Unlock')
    await page.keyboard.press('Space')
    await until(async () => (await indicator('learner')) === 'Editing', 'learner editing unlocked')
  })

  it('an instructor invites by keyboard; the invitee fills in the name and accepts with Enter', async () => {
    // The demo panes join by themselves; joining by invitation has a step: the accept card.
    await fromTop()
    await tabTo(/^instructor: summary “Invitations”/)
    await page.keyboard.press('Enter')
    await tabTo(/^instructor: session-invitations > textarea/, { max: 3 })
    await page.keyboard.type('keys@example.edu')
    await tabTo(/^instructor: session-invitations > button.*“Invite”/, { max: 6 })
    await page.keyboard.press('Enter')
    const invitations = pane('instructor').locator('session-invitations')
    await until(async () => (await text(invitations.locator('[part=invitation]').first())).includes('keys@example.edu'), 'the invitation is listed')
    // The button was disabled while it sent, which drops focus: it is given back.
    await until(async () => /^instructor: session-invitations > button.*“Invite”/.test((await focused())?.desc ?? ''), 'focus back on Invite')
    const outbox = await (await fetch(server.url + '/')).text()
    const link = /href="([^"]*invite=[^"]+)"/.exec(outbox)?.[1]?.replace(/&amp;/g, '&')
    assert.ok(link, 'the mail is in the outbox')
    const guest = await browser.newContext()
    const main = page
    try {
      page = await guest.newPage()
      await page.goto(link)
      await page.locator('session-room [part=invitation] input[name=name]').waitFor({ timeout: 15_000 })
      await page.locator('body').focus()
      await tabTo(/session-room > input/, { max: 10 })
      await page.keyboard.press('Control+a')
      await page.keyboard.type('Keyboard Newcomer')
      await page.keyboard.press('Enter')
      await page.locator('session-editor .editor.live').waitFor({ timeout: 15_000 })
      assert.equal(await text(page.locator('session-editor [part=indicator]')), 'Editing', 'joined as a learner')
    } finally {
      page = main
      await guest.close()
    }
  })

  it('every Tab stop shows its focus (every panel opened by Enter on the way), and Tab leaves the last one', { timeout: 60_000 }, async () => {
    await fromTop()
    const stops: Focused[] = []
    const hidden: string[] = []
    let left = false
    for (let i = 0; i < 250; i++) {
      await page.keyboard.press('Tab')
      const f = await focused()
      if (!f) {
        if (stops.length) {
          left = true
          break
        }
        continue
      }
      if (stops.length && stops[stops.length - 1]!.key === f.key) assert.fail(`Tab stays on ${f.desc}`)
      if (stops.length && stops[0]!.key === f.key) {
        left = true
        break
      }
      // The code draws its ring a moment after focus arrives.
      if (!f.visible) await page.waitForTimeout(150)
      if (!f.visible && !(await focused())?.visible) hidden.push(f.desc)
      stops.push(f)
      // Every panel is opened on the way (Enter on its summary), so what is inside is walked too.
      if (f.closed) {
        await page.keyboard.press('Enter')
        await page.waitForTimeout(150)
      }
    }
    assert.ok(stops.length > 60, `every control of the three panes is a stop: ${stops.length}`)
    assert.ok(left, `Tab never left the last stop; the stops:\n${stops.map((s) => s.desc).join('\n')}`)
    assert.deepEqual(hidden, [], `stops without a visible focus indicator:\n${hidden.join('\n')}`)
    assert.deepEqual(problems, [])
  })
})
