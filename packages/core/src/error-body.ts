/**
 * Reading an error answer (`{error: {code, message}}`) by hand, without `ErrorBodySchema`: every
 * element reads error bodies, and this keeps the schemas and their validator out of what a page
 * downloads up front (they live in `@session-kit/core/api`).
 */
/** The sentence of an error body (`{error: {message}}`), or undefined when the body is not one. */
export function errorBodyMessage(json: unknown): string | undefined {
  const error = json !== null && typeof json === 'object' ? (json as { error?: unknown }).error : undefined
  if (error === null || typeof error !== 'object') return undefined
  const { code, message } = error as { code?: unknown; message?: unknown }
  return typeof code === 'string' && typeof message === 'string' ? message : undefined
}
