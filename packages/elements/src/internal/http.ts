import { errorBodyMessage } from '@session-kit/core'

/** The sentence from an error response (`{"error":{"message"}}`), or the status. */
export async function errorMessage(res: Response): Promise<string> {
  return errorBodyMessage(await res.json().catch(() => null)) ?? `the server answered ${res.status}`
}

/** The response, or an Error carrying the server's sentence when it is not a success. */
export async function okOrThrow(res: Response): Promise<Response> {
  if (!res.ok) throw new Error(await errorMessage(res))
  return res
}
