import { errorBodyMessage } from '@session-kit/core'

/** Why an assignment call failed, as a person can act on it. */
export type AssignmentFailure = 'network' | 'token' | 'forbidden' | 'closed' | 'missing' | 'other'

/** A failed assignment call: what kind of failure, and the server's sentence. */
export class AssignmentError extends Error {
  constructor(
    readonly kind: AssignmentFailure,
    message: string,
    readonly code = '',
  ) {
    super(message)
  }
}

/**
 * The assignment routes (`/v1/assignments/:aid/…`) with the host's token: JSON in, JSON out, and
 * every failure an `AssignmentError` that says which kind it is (closed, not allowed, network …).
 */
export class AssignmentApi {
  constructor(
    readonly server: string,
    readonly assignment: string,
    readonly token: string,
  ) {}

  get base(): string {
    return (this.server || location.origin).replace(/\/+$/, '')
  }

  /** `path` after `/v1/assignments/:aid` (e.g. `/open`). */
  call<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
    return request<T>(`${this.base}/v1/assignments/${encodeURIComponent(this.assignment)}${path}`, this.token, method, body, signal)
  }

  /** A room route (`/v1/sessions/:sid/…`) with that room's token. */
  room<T>(sessionId: string, token: string, path: string, signal?: AbortSignal): Promise<T> {
    return request<T>(`${this.base}/v1/sessions/${encodeURIComponent(sessionId)}${path}`, token, 'GET', undefined, signal)
  }
}

async function request<T>(url: string, token: string, method: string, body: unknown, signal?: AbortSignal): Promise<T> {
  let res: Response
  try {
    res = await fetch(url, {
      method,
      signal,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
  } catch (e) {
    if (signal?.aborted) throw e
    throw new AssignmentError('network', 'The server could not be reached. Check your connection and try again.')
  }
  const json: unknown = await res.json().catch(() => null)
  if (res.ok) return json as T
  const message = errorBodyMessage(json) ?? `The server answered ${res.status}.`
  const code = (json as { error?: { code?: string } } | null)?.error?.code ?? ''
  throw new AssignmentError(failureOf(res.status, code), message, code)
}

function failureOf(status: number, code: string): AssignmentFailure {
  if (/closed/.test(code) || status === 410) return 'closed'
  if (status === 401) return 'token'
  if (status === 403) return 'forbidden'
  if (status === 404) return 'missing'
  if (status === 0 || status >= 502) return 'network'
  return 'other'
}
