import { html, nothing, type ReactiveControllerHost } from 'lit'
import { MAX_QUESTION_LENGTH, type RaisedHand } from '@session-kit/core'

/**
 * "Raise hand" in the room bar: a button that opens a one-line form for an optional question
 * (Enter raises the hand, Escape cancels), and "Lower hand" while the hand is up.
 */
export class HandControl {
  #asking = false
  #question = ''

  constructor(
    private readonly host: ReactiveControllerHost & { renderRoot: HTMLElement | DocumentFragment },
    /** Raise (with the question) or lower one's own hand; false when it could not be sent. */
    private readonly send: (raised: boolean, question?: string) => boolean,
  ) {}

  #focus(selector: string) {
    void this.host.updateComplete.then(() => (this.host.renderRoot.querySelector(selector) as HTMLElement | null)?.focus())
  }

  #open = () => {
    this.#asking = true
    this.host.requestUpdate()
    this.#focus('.hand-form input')
  }

  #close = () => {
    this.#asking = false
    this.host.requestUpdate()
    this.#focus('[part~=hand-button]')
  }

  #raise = (e: Event) => {
    e.preventDefault()
    if (!this.send(true, this.#question)) return
    this.#asking = false
    this.#question = ''
    this.host.requestUpdate()
    this.#focus('[part~=hand-button]')
  }

  #lower = () => {
    if (this.send(false)) this.#focus('[part~=hand-button]')
  }

  render(mine: RaisedHand | undefined) {
    // One template for both: the same button stays (with its focus) when the hand goes up or down.
    if (mine || !this.#asking) {
      return html`<button
        type="button"
        part="hand-button"
        title=${mine ? (mine.question ? `Your question: ${mine.question}` : 'Your hand is raised') : nothing}
        aria-expanded=${mine ? nothing : 'false'}
        @click=${mine ? this.#lower : this.#open}
      >${mine ? 'Lower' : 'Raise'} hand</button>`
    }
    return html`<form part="hand-form" class="hand-form" @submit=${this.#raise} @keydown=${(e: KeyboardEvent) => e.key === 'Escape' && this.#close()}>
      <label
        >Question (optional)
        <input
          name="question"
          maxlength=${MAX_QUESTION_LENGTH}
          autocomplete="off"
          placeholder="What would you like to ask?"
          .value=${this.#question}
          @input=${(e: Event) => (this.#question = (e.target as HTMLInputElement).value)}
      /></label>
      <button type="submit" class="primary">Raise hand</button>
      <button type="button" @click=${this.#close}>Cancel</button>
    </form>`
  }
}
