/** The server's icon (a pair of code brackets) for the tabs of the pages it serves. */
export const ICON_SVG =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="7" fill="#6d28d9"/><path d="M12.5 10 6.5 16l6 6M19.5 10l6 6-6 6" fill="none" stroke="#fff" stroke-width="3" stroke-linecap="round" stroke-linejoin="round"/></svg>'

/** For a page's `<link rel="icon">`: inline, so the page costs no request (its policy allows `data:` images). */
export const ICON_DATA_URL = `data:image/svg+xml,${encodeURIComponent(ICON_SVG)}`
