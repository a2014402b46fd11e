import type { ReactiveController, ReactiveControllerHost } from 'lit'
import { errorMessage } from './http.js'

/**
 * Where a load stands, as an element renders it: nothing to load yet (`idle`), the first answer
 * on its way (`loading`), no answer to show (`error`), an answer with nothing in it (`empty`), or
 * something to show (`ready`). A reload keeps showing what it replaces (see `pending`).
 */
export type LoadStatus = 'idle' | 'loading' | 'error' | 'empty' | 'ready'

/** A load the server answered with an error: the message is the server's sentence. */
export class ResponseError extends Error {}

export interface LoadOptions<T, A extends readonly unknown[]> {
  /**
   * What the load depends on, read at each update of the host: when it changes, the load under
   * way is aborted and another starts. `null` while there is nothing to load (outside a room, not
   * yet live, not allowed).
   */
  args: () => A | null
  /** Load only when `reload()` is called, not when the args change (a load the element paces itself). */
  manual?: boolean
  /** The request; `signal` aborts it when the args change. */
  request: (args: A, signal: AbortSignal) => Promise<Response>
  /** The response body as the element uses it (one field of the body, say). */
  parse?: (json: unknown) => T
  /** The sentence shown when a load fails (a `ResponseError` when the server answered with an error). */
  failure: (error: Error) => string
  /** Whether an answer holds nothing (default: an empty array). */
  isEmpty?: (value: T) => boolean
  /**
   * Show the previous answer while the args change (a list reloading for a new connection).
   * `false` for a load of another thing (the player's recording): the previous answer goes at once.
   */
  keep?: boolean
  /** Called with each answer that is shown, after a run the args did not overtake. */
  onLoad?: (value: T) => void
}

/**
 * Loads what an element shows from the server: a status to render (loading, error, empty, ready),
 * the request under way aborted when what it depends on changes, and never a stale answer (one
 * that arrives after the args changed, or after a newer load began, is dropped). The value may also
 * be set in place, for lists that follow the room's events between loads.
 *
 * It is `@lit/task`'s model (args read at each update, abort on change, a status to render) in the
 * few lines these loads need: the task library cost a kilobyte on every page with a list.
 */
export class LoadController<T, A extends readonly unknown[] = readonly unknown[]> implements ReactiveController {
  #value: T | undefined
  #error = ''
  /** The args of the value shown (for `keep: false`). */
  #args: A | null = null
  /** The args last seen at an update (a change starts a load). */
  #seen: A | null | undefined = undefined
  #timer?: ReturnType<typeof setTimeout>
  #abort?: AbortController
  #pending = false

  constructor(
    private readonly host: ReactiveControllerHost,
    private readonly opts: LoadOptions<T, A>,
  ) {
    host.addController(this)
  }

  hostUpdate() {
    if (this.opts.manual) return
    const args = this.opts.args()
    const seen = this.#seen
    this.#seen = args
    if (seen !== undefined && sameArgs(seen, args)) return
    void this.#start(args)
  }

  async #start(args: A | null): Promise<void> {
    this.#abort?.abort()
    const abort = (this.#abort = new AbortController())
    if (this.opts.keep === false && (args === null || !this.#args || !sameArgs(args, this.#args))) {
      this.#value = undefined
      this.#error = ''
    }
    // Only an update gets here with nothing to load: the render that follows shows it.
    if (args === null) {
      this.#pending = false
      return
    }
    this.#args = args
    this.#pending = true
    try {
      const value = await this.#load(args, abort.signal)
      if (abort.signal.aborted) return
      this.#value = value
      this.#error = ''
      this.opts.onLoad?.(value)
    } catch (e) {
      if (abort.signal.aborted) return
      this.#error = this.opts.failure(e instanceof Error ? e : new Error(String(e)))
    }
    this.#pending = false
    this.host.requestUpdate()
  }

  async #load(args: A, signal: AbortSignal): Promise<T> {
    const res = await this.opts.request(args, signal)
    if (!res.ok) throw new ResponseError(await errorMessage(res))
    const json: unknown = await res.json()
    return this.opts.parse ? this.opts.parse(json) : (json as T)
  }

  /** The last answer (kept while a reload is under way or failed), or what was set in its place. */
  get value(): T | undefined {
    return this.#value
  }

  set value(value: T | undefined) {
    this.#value = value
    this.host.requestUpdate()
  }

  /** The sentence of the last failed load; empty once a load succeeds. */
  get error(): string {
    return this.#error
  }

  /** Whether a load is under way. */
  get pending(): boolean {
    return this.#pending
  }

  get status(): LoadStatus {
    const value = this.#value
    if (value === undefined) return this.pending ? 'loading' : this.#error ? 'error' : 'idle'
    return (this.opts.isEmpty ? this.opts.isEmpty(value) : Array.isArray(value) && !value.length) ? 'empty' : 'ready'
  }

  /**
   * Load again with the current args (after `delay` ms, debounced: many calls, one request).
   * Resolves once this load has settled, or at once when there is nothing to load.
   */
  reload(delay = 0): Promise<void> {
    clearTimeout(this.#timer)
    if (delay > 0) {
      return new Promise((resolve) => {
        this.#timer = setTimeout(() => void this.reload().then(resolve), delay)
      })
    }
    const args = this.opts.args()
    this.#seen = args
    return args ? this.#start(args) : Promise.resolve()
  }

  hostDisconnected() {
    clearTimeout(this.#timer)
    // Connected again, it loads afresh.
    this.#abort?.abort()
    this.#pending = false
    this.#seen = undefined
  }
}

const sameArgs = (a: readonly unknown[] | null, b: readonly unknown[] | null) => a === b || (a !== null && b !== null && a.length === b.length && a.every((x, i) => x === b[i]))
