import { html, type ReactiveController, type ReactiveControllerHost } from 'lit'
import { sayAgain } from './format.js'

/**
 * What a panel is doing and what it last said: the key of the action under way (its buttons are
 * disabled meanwhile) and a polite announcement for screen readers ("Snapshot saved."), rendered
 * by `region()` in a visually hidden live region.
 */
export class BusyController implements ReactiveController {
  #busy = ''
  #said = ''

  constructor(private readonly host: ReactiveControllerHost) {
    host.addController(this)
  }

  /** The key of the action under way ('' when idle). */
  get busy(): string {
    return this.#busy
  }

  set busy(key: string) {
    // A pressed button is disabled while its action runs, which drops its focus to the page: it
    // gets it back after (unless the person moved on meanwhile).
    if (key) this.#pressed = (this.host as unknown as Element).shadowRoot?.activeElement as HTMLElement | undefined
    this.#busy = key
    this.host.requestUpdate()
    if (!key) void this.host.updateComplete.then(() => document.activeElement === document.body && this.#pressed?.focus())
  }
  #pressed?: HTMLElement

  /** Whether the action `key` is under way. */
  is(key: string): boolean {
    return this.#busy === key
  }

  /** Run `action` as `key`: busy until it settles, whatever its outcome. */
  async run<R>(key: string, action: () => Promise<R>): Promise<R> {
    this.busy = key
    try {
      return await action()
    } finally {
      this.busy = ''
    }
  }

  /** The last announcement. */
  get said(): string {
    return this.#said
  }

  /** Say `text` politely (after what is being read), also the same words again. */
  announce(text: string) {
    this.#said = sayAgain(this.#said, text)
    this.host.requestUpdate()
  }

  /** The live region that reads the announcements; render it once, anywhere in the shadow root. */
  region() {
    return html`<div class="visually-hidden" role="status" aria-live="polite">${this.#said}</div>`
  }

  hostConnected() {}
}
