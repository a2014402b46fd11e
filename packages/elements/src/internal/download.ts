/** Save a response as a file: the name from Content-Disposition when the server gives one. */
export async function downloadResponse(res: Response, fallbackName: string, host: HTMLElement) {
  const named = /filename="([^"]+)"/.exec(res.headers.get('content-disposition') ?? '')?.[1]
  downloadBlob(await res.blob(), named ?? fallbackName, host)
}

/** Save a blob as a file named `name`, through a link in the element's shadow root. */
export function downloadBlob(blob: Blob, name: string, host: HTMLElement) {
  const url = URL.createObjectURL(blob)
  const a = document.createElement('a')
  a.href = url
  a.download = name.replace(/[\\/:*?"<>|]+/g, '-')
  a.hidden = true
  host.shadowRoot!.append(a)
  a.click()
  a.remove()
  setTimeout(() => URL.revokeObjectURL(url), 10_000)
}
