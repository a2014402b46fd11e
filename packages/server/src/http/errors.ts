import type { Permission } from '@session-kit/core'

export type HttpStatus = 400 | 401 | 403 | 404 | 409 | 410 | 413 | 429 | 500 | 503

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

export const badRequest = (message: string, code = 'invalid_request', extra?: Record<string, unknown>) => new AppError(400, code, message, extra)
export const notFound = (message: string, code = 'not_found') => new AppError(404, code, message)
export const conflict = (message: string, code = 'conflict') => new AppError(409, code, message)
export const forbidden = (permission: Permission | string, message?: string) =>
  new AppError(403, 'forbidden', message ?? `This needs the ${permission} permission, which your role in this session does not have.`, { permission })
