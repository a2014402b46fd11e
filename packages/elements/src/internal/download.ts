/** Save a response as a file: the name from Content-Disposition when the server gives one. */
export async function downloadResponse(res: Response, fallbackName: string, host: HTMLElement) {
  const named = /filename="([^"]+)"/.exec(res.headers.get('content-disposition') ?? '')?.[1]
  const blob = await res.blob()
  const url = URL.createObjectURL(blob)
  const a = document.createElement('a')
  a.href = url
  a.download = (named ?? fallbackName).replace(/[\\/:*?"<>|]+/g, '-')
  a.hidden = true
  host.shadowRoot!.append(a)
  a.click()
  a.remove()
  setTimeout(() => URL.revokeObjectURL(url), 10_000)
}
