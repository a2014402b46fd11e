/** The sentence from an error response (`{"error":{"message"}}`), or the status. */
export async function errorMessage(res: Response): Promise<string> {
  const body = (await res.json().catch(() => null)) as { error?: { message?: string } } | null
  return body?.error?.message ?? `the server answered ${res.status}`
}
