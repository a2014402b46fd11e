/**
 * The CDN entry (`session-kit.js` of the CDN build): registers each Session Kit element the first
 * time its tag is in the page, loading only that element's code and what it shares with the
 * others. A page with only `<session-invitations>` never downloads the editor, CodeMirror or
 * Automerge. Tags added later (by a framework, or after a click) are seen by a MutationObserver.
 *
 * ```html
 * <script type="module" src="https://rooms.example.edu/cdn/session-kit.js"></script>
 * ```
 *
 * Elements rendered inside another element's shadow root are loaded by that element itself.
 */
const LOADERS = {
  'session-room': () => import('./define/session-room.js'),
  'session-editor': () => import('./define/session-editor.js'),
  'session-runner': () => import('./define/session-runner.js'),
  'session-chat': () => import('./define/session-chat.js'),
  'session-participants': () => import('./define/session-participants.js'),
  'session-moderation': () => import('./define/session-moderation.js'),
  'session-gate': () => import('./define/session-gate.js'),
  'session-invitations': () => import('./define/session-invitations.js'),
  'session-snapshots': () => import('./define/session-snapshots.js'),
  'session-recording': () => import('./define/session-recording.js'),
  'session-player': () => import('./define/session-player.js'),
  'session-analytics': () => import('./define/session-analytics.js'),
  'session-assignment': () => import('./define/session-assignment.js'),
  'session-classroom': () => import('./define/session-classroom.js'),
} as const

export type SessionTag = keyof typeof LOADERS

export const TAGS = Object.keys(LOADERS) as SessionTag[]

const loading = new Map<SessionTag, Promise<unknown>>()

/** Load and register one element (idempotent); resolves with its module (the class and helpers). */
export function load<T extends SessionTag>(tag: T): Promise<Awaited<ReturnType<(typeof LOADERS)[T]>>> {
  if (!(tag in LOADERS)) return Promise.reject(new Error(`<${tag}> is not a Session Kit element; known: ${TAGS.join(', ')}`))
  let p = loading.get(tag)
  if (!p) {
    p = LOADERS[tag]().catch((e: unknown) => {
      loading.delete(tag)
      console.error(`Session Kit could not load <${tag}>:`, e)
      throw e
    })
    loading.set(tag, p)
  }
  return p as Promise<Awaited<ReturnType<(typeof LOADERS)[T]>>>
}

/** Load and register every element now (for pages that create elements in ways the observer cannot see). */
export function loadAll(): Promise<unknown[]> {
  return Promise.all(TAGS.map((t) => load(t)))
}

const SELECTOR = TAGS.join(',')

function scan(root: ParentNode) {
  for (const el of root.querySelectorAll(SELECTOR)) void load(el.localName as SessionTag).catch(() => {})
}

function isTag(name: string): name is SessionTag {
  return name in LOADERS
}

if (typeof document !== 'undefined' && typeof customElements !== 'undefined') {
  const observer = new MutationObserver((records) => {
    for (const r of records) {
      for (const node of r.addedNodes) {
        if (node.nodeType !== 1) continue
        const el = node as Element
        if (isTag(el.localName) && !customElements.get(el.localName)) void load(el.localName).catch(() => {})
        if (el.firstElementChild) scan(el)
      }
    }
  })
  observer.observe(document.documentElement, { childList: true, subtree: true })
  scan(document)
}
