import { needsPermission, type Permission } from '@session-kit/core'
import { AppError } from '../errors.js'

export const badRequest = (message: string, code = 'invalid_request', extra?: Record<string, unknown>) => new AppError(400, code, message, extra)
export const notFound = (message: string, code = 'not_found') => new AppError(404, code, message)
export const conflict = (message: string, code = 'conflict') => new AppError(409, code, message)
export const forbidden = (permission: Permission | string, message?: string) =>
  new AppError(403, 'forbidden', message ?? needsPermission(permission), { permission })
