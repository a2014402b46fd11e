/**
 * What a screen reader would announce politely from a part of the page: each time the text of a
 * live region (role status, alert or log, or aria-live other than off) changes to something not
 * empty, or a region appears with text, that text is said once. Text under aria-hidden is not read.
 * Watches the light DOM and every open shadow root under `root` (also ones created later).
 */
export function listenToLiveRegions(root: Element) {
  const said: string[] = []
  const last = new Map<Element, string>()
  const watched = new Set<Node>()
  const regions = '[role=status], [role=alert], [role=log], [aria-live]:not([aria-live=off])'

  const read = (el: Element): string => {
    let text = ''
    for (const node of el.childNodes) {
      if (node.nodeType === Node.TEXT_NODE) text += node.textContent
      else if (node instanceof Element && node.getAttribute('aria-hidden') !== 'true' && !(node as HTMLElement).hidden) text += read(node)
    }
    return text
  }

  const scan = (first = false) => {
    const roots: (Element | ShadowRoot)[] = root.shadowRoot ? [root, root.shadowRoot] : [root]
    const all: Element[] = []
    for (let i = 0; i < roots.length; i++) {
      for (const el of roots[i]!.querySelectorAll('*')) {
        if (el.shadowRoot) roots.push(el.shadowRoot)
        if (el.matches(regions)) all.push(el)
      }
    }
    for (const r of roots) {
      if (r !== root && !watched.has(r)) {
        watched.add(r)
        observer.observe(r, { subtree: true, childList: true, characterData: true, attributes: true })
      }
    }
    for (const el of all) {
      if (el.closest('[aria-hidden=true]')) continue
      const text = read(el).trim()
      if (text && text !== last.get(el) && !first) said.push(text.replace(/\u200b/g, ''))
      last.set(el, text)
    }
  }

  const observer = new MutationObserver(() => scan())
  observer.observe(root, { subtree: true, childList: true, characterData: true, attributes: true })
  scan(true)
  return {
    /** Announcements since listening began (or since the last `take`), and forget them. */
    take(): string[] {
      scan()
      return said.splice(0)
    },
    stop: () => observer.disconnect(),
  }
}
