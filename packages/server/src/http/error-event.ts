/**
 * `@hono/node-ws` 1.3 tells the app about a socket error by constructing an `ErrorEvent`, a class
 * Node 20 does not have (the library brings its own `CloseEvent` but not this one). Without it, a
 * frame over the WebSocket size limit made the library throw "ErrorEvent is not defined" instead
 * of reaching our error handler. This defines the standard shape, only where it is missing.
 */
if (typeof (globalThis as { ErrorEvent?: unknown }).ErrorEvent === 'undefined') {
  class ErrorEvent extends Event {
    readonly error: unknown
    readonly message: string
    constructor(type: string, init: { error?: unknown; message?: string } = {}) {
      super(type)
      this.error = init.error
      this.message = init.message ?? (init.error instanceof Error ? init.error.message : '')
    }
  }
  Object.defineProperty(globalThis, 'ErrorEvent', { value: ErrorEvent, writable: true, configurable: true })
}
