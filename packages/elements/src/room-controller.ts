import { ContextConsumer } from '@lit/context'
import type { ReactiveController, ReactiveControllerHost } from 'lit'
import type { ServerEvent } from '@session-kit/core'
import { roomContext } from './internal/context.js'
import type { RoomClient, ServerEventMessage } from './internal/room-client.js'
import type { RoomState } from './room-state.js'

export type ServerEventHandlers = { [K in ServerEvent['type']]?: (event: Extract<ServerEvent, { type: K }>) => void }

/**
 * Gives an element the nearest room: its state (re-rendering the host on every change) and the
 * server events it asks for. Elements that show the code ask for the document.
 */
export class RoomController implements ReactiveController {
  state: RoomState | undefined
  #client: RoomClient | undefined
  #listeners: [string, EventListener][] = []

  constructor(
    private readonly host: ReactiveControllerHost & HTMLElement,
    private readonly opts: { needsDocument?: boolean; events?: ServerEventHandlers; onChange?: (state: RoomState | undefined, previous: RoomState | undefined) => void } = {},
  ) {
    host.addController(this)
    new ContextConsumer(host, { context: roomContext, subscribe: true, callback: (value) => this.#set(value) })
  }

  #set(value: RoomState | undefined) {
    const previous = this.state
    this.state = value
    if (value?.client !== this.#client) {
      this.#unsubscribe()
      this.#client = value?.client
      this.#subscribe()
      if (value && this.opts.needsDocument) value.client.needDocument()
    }
    this.opts.onChange?.(value, previous)
    this.host.requestUpdate()
  }

  #subscribe() {
    if (!this.#client || !this.opts.events) return
    for (const [type, handler] of Object.entries(this.opts.events)) {
      const listener = ((e: ServerEventMessage) => (handler as (event: ServerEvent) => void)(e.detail)) as EventListener
      this.#client.events.addEventListener(type, listener)
      this.#listeners.push([type, listener])
    }
  }

  #unsubscribe() {
    for (const [type, listener] of this.#listeners) this.#client?.events.removeEventListener(type, listener)
    this.#listeners = []
  }

  hostConnected() {
    if (!this.#listeners.length) this.#subscribe()
  }

  /**
   * Lecture mode: `{type: 'follow', on}` (lead or stop), `{type: 'hand', raised, question?, userId?,
   * all?}` (one's own hand; instructors lower anyone's or all), `{type: 'spotlight', userId | null}`.
   * False when not connected; the server decides who may.
   */
  lead(event: Parameters<RoomClient['lead']>[0]): boolean {
    return this.state?.client.lead(event) ?? false
  }

  hostDisconnected() {
    this.#unsubscribe()
  }
}

/**
 * What an element shows in place of what needs the room while the room cannot give it, the same
 * words in every element: "Not connected." once the room has failed (the room itself says why,
 * once), "Connecting…" while it joins; null once it has joined.
 */
export function roomUnavailable(state: RoomState | undefined): string | null {
  if (state?.status === 'error') return 'Not connected.'
  if (!state?.participant) return 'Connecting…'
  return null
}

/** Whether `el` sits inside a `<session-room>` (through shadow roots), defined yet or not. */
export function insideRoom(el: Element): boolean {
  for (let node: Node | null = el.parentNode; node; ) {
    if (node instanceof Element && node.localName === 'session-room') return true
    node = node instanceof ShadowRoot ? node.host : node.parentNode
  }
  return false
}
