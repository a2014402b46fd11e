import { fixture } from '@open-wc/testing'
import { html } from 'lit'
import '../define/session-runner.js'
import '../define/session-editor.js'
import type { SessionRunner } from '../session-runner/session-runner.js'
import { waitFor } from './room.js'

let playgrounds = 0

/** A local playground: an editor holding `code` and a runner pointed at it (ids unique on the page). */
export async function playground(code: string, language = 'javascript', timeout = 5) {
  const id = `ed-${playgrounds++}`
  const el = await fixture<HTMLElement>(html`<div>
    <session-editor id=${id} language=${language}>${code}</session-editor>
    <session-runner for=${id} timeout=${timeout}></session-runner>
  </div>`)
  const runner = el.querySelector('session-runner') as SessionRunner
  await waitFor(() => (el.querySelector('session-editor') as HTMLElement & { value: string }).value === code, 5000, 'editor ready')
  return runner
}

/** The output lines a person sees. */
export const outputLines = (runner: SessionRunner) => [...runner.shadowRoot!.querySelectorAll('[part~=line]')].map((l) => l.textContent!.trim())

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/**
 * The longest the host page's main thread went without running a timer (and without painting a
 * frame) while `during` ran: what a person would feel as the page freezing.
 */
export async function longestStall<T>(during: () => Promise<T>): Promise<{ value: T; timerMs: number; frameMs: number; tookMs: number }> {
  let running = true
  let timerMs = 0
  let frameMs = 0
  let lastTimer = performance.now()
  let lastFrame = lastTimer
  const tick = () => {
    const now = performance.now()
    timerMs = Math.max(timerMs, now - lastTimer)
    lastTimer = now
    if (running) setTimeout(tick, 10)
  }
  const frame = (now: number) => {
    frameMs = Math.max(frameMs, now - lastFrame)
    lastFrame = now
    if (running) requestAnimationFrame(frame)
  }
  setTimeout(tick, 10)
  requestAnimationFrame(frame)
  const t0 = performance.now()
  const value = await during()
  const tookMs = performance.now() - t0
  running = false
  return { value, timerMs: Math.round(timerMs), frameMs: Math.round(frameMs), tookMs: Math.round(tookMs) }
}

/**
 * How long the host page stalls on this machine, right now, while a worker spins without printing:
 * what the machine's load alone costs (a busy 2-core machine stalls timers too), the baseline the
 * flood tests allow on top of their 200 ms.
 */
export async function stallFloor(): Promise<number> {
  const runner = await playground('while (true) {}', 'javascript', 1)
  return (await longestStall(() => runner.run())).timerMs
}
