import { html, nothing, type PropertyValues } from 'lit'
import { property, query, state } from 'lit/decorators.js'
import { MAX_CHAT_LENGTH, Permission, Rule, whyNot, type ChatMessage } from '@session-kit/core'
import { colorIndex, participantColorClasses } from '../session-element.js'
import { linkify, relativeTime } from '../internal/format.js'
import { insideRoom, RoomController, roomUnavailable } from '../room-controller.js'
import { boxStyles, SessionElement } from '../session-element.js'
import { statusStyles } from '../shared-styles.js'
import { styles } from './session-chat.styles.js'

/**
 * The room's chat: messages over the room's connection, history loaded page by page, every
 * message shown as text (markup is displayed, never interpreted; web addresses become safe links).
 * Observers and muted participants read it with the reason they cannot post; instructors may
 * delete a message for everyone. Enter sends, Shift+Enter starts a new line.
 *
 * @tag session-chat
 * @summary Room chat with history and moderation.
 *
 * @csspart messages - The list of messages.
 * @csspart message - One message.
 * @csspart author - A message's author.
 * @csspart composer - The form to write a message.
 * @csspart notice - Why you cannot post, or that you are sending too fast.
 *
 * @cssprop --session-chat-height - Height of the message list (default 16rem).
 * @cssprop --session-color-accent - The Send button.
 */
export class SessionChat extends SessionElement {
  /** @internal Lit styles. */
  static override styles = [SessionElement.baseStyles, boxStyles, participantColorClasses, styles, statusStyles]

  @property({ reflect: true }) theme?: 'light' | 'dark'

  @state() private _messages: ChatMessage[] = []
  @state() private _before: number | null = null
  @state() private _loaded = false
  @state() private _loading = false
  @state() private _error = ''
  @state() private _notice = ''
  @state() private _draft = ''

  @query('.messages') private _list!: HTMLElement
  @query('textarea') private _input?: HTMLTextAreaElement

  #stickToBottom = true
  #noticeTimer?: ReturnType<typeof setTimeout>
  #room = new RoomController(this, {
    events: {
      chat: (e) => {
        if (!this._messages.some((m) => m.id === e.message.id)) this._messages = [...this._messages, e.message]
      },
      'chat-deleted': (e) => (this._messages = this._messages.filter((m) => m.id !== e.id)),
      rate_limited: (e) => e.what === 'chat' && this.#flash(e.message),
      error: (e) => e.code === 'forbidden' && !e.permission && this.#flash(e.message),
    },
    onChange: (state, previous) => {
      if (state?.status === 'live' && previous?.status !== 'live') void this.#loadHistory(true)
    },
  })

  get #whyNot(): string | null {
    const s = this.#room.state
    const unavailable = roomUnavailable(s)
    if (unavailable || !s?.participant) return unavailable ?? 'Connecting…'
    const ctx = s.context
    return ctx ? (whyNot(ctx, Rule.POST_CHAT)?.message ?? null) : 'Connecting…'
  }

  #flash(message: string) {
    this._notice = message
    clearTimeout(this.#noticeTimer)
    this.#noticeTimer = setTimeout(() => (this._notice = ''), 6000)
  }

  async #loadHistory(fresh: boolean) {
    const client = this.#room.state?.client
    if (!client || this._loading) return
    this._loading = true
    const keepScroll = !fresh && this._list ? this._list.scrollHeight - this._list.scrollTop : null
    try {
      const q = fresh || this._before === null ? '' : `&before=${this._before}`
      const res = await client.api('GET', `/chat?limit=50${q}`)
      if (!res.ok) throw new Error(String(res.status))
      const page = (await res.json()) as { messages: ChatMessage[]; before: number | null }
      const known = new Set(page.messages.map((m) => m.id))
      this._messages = fresh ? [...page.messages, ...this._messages.filter((m) => !known.has(m.id) && m.id > (page.messages.at(-1)?.id ?? 0))] : [...page.messages, ...this._messages]
      this._before = page.before
      this._loaded = true
      this._error = ''
      if (keepScroll !== null) {
        await this.updateComplete
        this._list.scrollTop = this._list.scrollHeight - keepScroll
      }
    } catch {
      this._error = 'The chat history could not be loaded.'
    } finally {
      this._loading = false
    }
  }

  #send(e?: Event) {
    e?.preventDefault()
    const text = this._draft.trim()
    if (!text || this.#whyNot) return
    if (text.length > MAX_CHAT_LENGTH) return this.#flash(`A message is at most ${MAX_CHAT_LENGTH} characters.`)
    if (!this.#room.state!.client.send({ type: 'chat', text })) return this.#flash('Not connected: your message was not sent. It is still in the box.')
    this._draft = ''
    this.#stickToBottom = true
  }

  #keydown(e: KeyboardEvent) {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) this.#send(e)
  }

  async #delete(m: ChatMessage) {
    const res = await this.#room.state?.client.api('DELETE', `/chat/${m.id}`)
    if (res && !res.ok) this.#flash('The message could not be deleted.')
  }

  protected override willUpdate(changed: PropertyValues) {
    if (changed.has('_messages') && this._list) {
      this.#stickToBottom = this._list.scrollHeight - this._list.scrollTop - this._list.clientHeight < 40
    }
  }

  protected override update(changed: PropertyValues) {
    // A mute (or going offline) replaces the message box with why: whoever was typing keeps their
    // place on that sentence, and is back in the box (the draft kept) when they may post again.
    const focused = this.shadowRoot?.activeElement
    super.update(changed)
    if (focused && !focused.isConnected) (this._input ?? this.renderRoot.querySelector<HTMLElement>('.why'))?.focus()
  }

  protected override updated(changed: PropertyValues) {
    if (changed.has('_messages') && this.#stickToBottom && this._list) this._list.scrollTop = this._list.scrollHeight
  }

  #renderText(text: string) {
    return linkify(text).map((part) => (typeof part === 'string' ? part : html`<a href=${part.href} target="_blank" rel="noopener noreferrer nofollow">${part.text}</a>`))
  }

  protected override render() {
    const state = this.#room.state
    // Inside a room whose context has not arrived yet, the chat is joining, not misplaced.
    if (!state && !insideRoom(this)) return html`<p class="notice">The chat works inside a &lt;session-room&gt;.</p>`
    if (!state || state.status === 'error') return html`<p class="empty" role="status">${roomUnavailable(state)}</p>`
    const whyNot = this.#whyNot
    const moderator = state.can(Permission.MODERATE_CHAT)
    return html`
      <div part="messages" class="messages" role="log" aria-label="Chat messages" tabindex="0">
        ${this._before !== null
          ? html`<div class="earlier"><button type="button" ?disabled=${this._loading} @click=${() => this.#loadHistory(false)}>Load earlier messages</button></div>`
          : nothing}
        ${!this._loaded && !this._error ? html`<p class="empty" role="status">${roomUnavailable(state) ?? 'Loading the chat…'}</p>` : nothing}
        ${this._error ? html`<p class="empty" role="alert">${this._error}</p>` : nothing}
        ${this._loaded && !this._messages.length ? html`<p class="empty">No messages yet.</p>` : nothing}
        ${this._messages.map(
          (m) => html`<div part="message" class="message c${colorIndex(m.color)}">
            <div class="head">
              <span part="author" class="author">${m.name}</span>
              <span class="role">${m.role}</span>
              <time datetime=${m.at} title=${new Date(m.at).toLocaleString()}>${relativeTime(m.at)}</time>
              ${moderator ? html`<button class="delete" type="button" @click=${() => this.#delete(m)}>Delete<span class="visually-hidden"> message from ${m.name}</span></button>` : nothing}
            </div>
            <div class="text">${this.#renderText(m.text)}</div>
          </div>`,
        )}
      </div>
      ${whyNot
        ? // Not a live region: the room says why (a mute, "Offline"), once.
          html`<p part="notice" class="notice why" tabindex="-1">${whyNot}</p>`
        : html`<form part="composer" @submit=${(e: Event) => this.#send(e)}>
            <label class="visually-hidden" for="message">Message</label>
            <textarea id="message" rows="1" maxlength=${MAX_CHAT_LENGTH} placeholder="Write a message…" .value=${this._draft} @input=${(e: Event) => (this._draft = (e.target as HTMLTextAreaElement).value)} @keydown=${this.#keydown}></textarea>
            <button class="primary" type="submit" ?disabled=${!this._draft.trim()}>Send</button>
          </form>`}
      ${this._notice ? html`<p part="notice" class="notice" role="alert">${this._notice}</p>` : nothing}
    `
  }

  /** Focus the message box. */
  override focus() {
    this._input?.focus()
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'session-chat': SessionChat
  }
}
