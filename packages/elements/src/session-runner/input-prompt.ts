import { html, nothing, type ReactiveController, type ReactiveControllerHost } from 'lit'

/**
 * A program asking for a line of input (Python's `input()`): the console shows its prompt and a
 * text field, focused. Enter sends the line (echoed in the console after the prompt, as a terminal
 * would show it); Escape or "End input" sends the end of input (the program sees EOF).
 */
export class InputPrompt implements ReactiveController {
  /** The prompt being asked, or null when the program is not waiting for input. */
  prompt: string | null = null
  #resolve: ((line: string | null) => void) | null = null
  #focus = false

  constructor(
    private readonly host: ReactiveControllerHost & HTMLElement,
    /** Shows what was typed in the console: the prompt and the line. */
    private readonly echo: (text: string) => void,
  ) {
    host.addController(this)
  }

  /** Ask for a line; resolves with it, or null at the end of input (or when the run ends). */
  ask(prompt: string): Promise<string | null> {
    this.answer(null)
    this.prompt = prompt
    this.#focus = true
    this.host.requestUpdate()
    return new Promise((resolve) => (this.#resolve = resolve))
  }

  /** Answer the question being asked (null: end of input); nothing when none is. */
  answer(line: string | null) {
    const resolve = this.#resolve
    if (!resolve) return
    this.#resolve = null
    const prompt = this.prompt ?? ''
    this.prompt = null
    // As a terminal shows it: the prompt, then what was typed (nothing at the end of input).
    if (line !== null || prompt) this.echo(prompt + (line ?? ''))
    this.host.requestUpdate()
    resolve(line)
  }

  hostUpdated() {
    if (!this.#focus) return
    this.#focus = false
    this.host.shadowRoot?.querySelector<HTMLInputElement>('input.stdin')?.focus()
  }

  hostDisconnected() {
    this.answer(null)
  }

  /** The prompt and its field, where the console ends; nothing when no input is asked for. */
  render(file: string) {
    if (this.prompt === null) return nothing
    const send = (e: SubmitEvent) => {
      e.preventDefault()
      this.answer((e.currentTarget as HTMLFormElement).querySelector('input')!.value)
    }
    const keydown = (e: KeyboardEvent) => {
      if (e.key !== 'Escape') return
      e.preventDefault()
      e.stopPropagation()
      this.answer(null)
    }
    return html`<form part="input" class="input" @submit=${send}>
      <label for="stdin" class="prompt">${this.prompt.trim() ? this.prompt : html`<span class="visually-hidden">Input for ${file}</span>`}</label>
      <input id="stdin" class="stdin" type="text" autocomplete="off" autocapitalize="off" spellcheck="false" enterkeyhint="send" aria-describedby="stdin-hint" @keydown=${keydown} />
      <button type="submit">Send</button>
      <button type="button" @click=${() => this.answer(null)}>End input</button>
      <span id="stdin-hint" class="visually-hidden">${file} is waiting for a line. Enter sends it; Escape ends the input.</span>
    </form>`
  }
}
