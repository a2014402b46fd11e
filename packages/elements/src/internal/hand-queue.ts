import { html, nothing, type ReactiveController, type ReactiveControllerHost } from 'lit'
import { Rule } from '@session-kit/core'
import type { RoomController } from '../room-controller.js'
import { duration } from './format.js'

/** How often the time waiting is brought up to date while hands are up. */
const REFRESH_MS = 15_000

/** "less than a minute", "3 min", "1 h 05 min": how long since `at` (the server's clock). */
export function waiting(at: string, now = Date.now()): string {
  const seconds = Math.max(0, (now - new Date(at).getTime()) / 1000)
  return seconds < 60 ? 'less than a minute' : duration(seconds)
}

/**
 * The raised hands as instructors see them, oldest first, with each question and the time waiting
 * (refreshed while hands are up), and buttons to lower one hand or all. Renders nothing for anyone
 * who does not lead the lecture (they only ever receive their own hand).
 */
export class HandQueue implements ReactiveController {
  #timer?: ReturnType<typeof setInterval>
  #failed = false

  constructor(
    private readonly host: ReactiveControllerHost,
    private readonly room: RoomController,
  ) {
    host.addController(this)
  }

  hostConnected() {
    this.#timer = setInterval(() => this.room.state?.lecture.hands.length && this.host.requestUpdate(), REFRESH_MS)
  }

  hostDisconnected() {
    clearInterval(this.#timer)
  }

  #lower(who: string) {
    this.#failed = !this.room.lead({ type: 'hand', raised: false, ...(who === 'all' ? { all: true } : { userId: who }) })
    this.host.requestUpdate()
  }

  render() {
    const st = this.room.state
    if (!st?.can(Rule.LEAD_LECTURE)) return nothing
    const { hands } = st.lecture
    return html`<section part="hands" class="hands" aria-labelledby="hands-title">
      <h3 id="hands-title">Raised hands <span class="count">(${hands.length})</span></h3>
      ${hands.length
        ? html`<ol class="hand-list">
              ${hands.map(
                (h) => html`<li part="hand" class="hand">
                  <span class="who"
                    ><span class="name">${h.name}</span>
                    <span class="meta">waiting ${waiting(h.raisedAt)}</span>
                    ${h.question ? html`<span class="question">“${h.question}”</span>` : nothing}</span
                  >
                  <button type="button" @click=${() => this.#lower(h.userId)}>Lower<span class="visually-hidden"> ${h.name}'s hand</span></button>
                </li>`,
              )}
            </ol>
            <button type="button" part="lower-all" @click=${() => this.#lower('all')}>Lower all hands</button>`
        : html`<p class="meta">No hands raised.</p>`}
      ${this.#failed ? html`<p class="error" role="alert">Not connected: try again once the room is live.</p>` : nothing}
    </section>`
  }
}
