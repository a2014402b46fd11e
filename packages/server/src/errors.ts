/**
 * The error every layer throws: HTTP routes answer with it, the socket closes with it. It sits
 * below both so neither depends on the other.
 */

export type HttpStatus = 400 | 401 | 403 | 404 | 409 | 410 | 413 | 429 | 500 | 502 | 503 | 504

/** An error a person can act on: a stable code, an HTTP status and a sentence. */
export class AppError extends Error {
  constructor(
    readonly status: HttpStatus,
    readonly code: string,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message)
    this.name = 'AppError'
  }

  toJSON() {
    return { error: { code: this.code, message: this.message, ...this.extra } }
  }
}
