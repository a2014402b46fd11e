/**
 * Local changes not yet acknowledged by the server, kept in IndexedDB so they survive a reload.
 * Keyed by server, session and user; each entry is one Automerge change.
 */
export interface UnsentChange {
  hash: string
  bytes: Uint8Array
  file: string
  at: number
}

const DB_NAME = 'session-kit'
const STORE = 'unsent'

function open(): Promise<IDBDatabase | null> {
  if (typeof indexedDB === 'undefined') return Promise.resolve(null)
  return new Promise((resolve) => {
    const req = indexedDB.open(DB_NAME, 1)
    req.onupgradeneeded = () => req.result.createObjectStore(STORE)
    req.onsuccess = () => resolve(req.result)
    req.onerror = () => resolve(null)
    req.onblocked = () => resolve(null)
  })
}

export class UnsentStore {
  #db: Promise<IDBDatabase | null> | undefined
  #entries: UnsentChange[] = []
  #loaded = false

  constructor(readonly key: string) {}

  #database() {
    return (this.#db ??= open())
  }

  /** Read what earlier visits left unsent (returned) and keep it with anything added meanwhile. */
  async load(): Promise<UnsentChange[]> {
    const db = await this.#database()
    if (!db) return (this.#entries = [])
    const value = await new Promise<UnsentChange[] | undefined>((resolve) => {
      const req = db.transaction(STORE, 'readonly').objectStore(STORE).get(this.key)
      req.onsuccess = () => resolve(req.result as UnsentChange[] | undefined)
      req.onerror = () => resolve(undefined)
    })
    this.#loaded = true
    // Keep anything added before the load finished.
    const merged = [...(value ?? [])]
    for (const e of this.#entries) if (!merged.some((m) => m.hash === e.hash)) merged.push(e)
    this.#entries = merged
    return [...(value ?? [])]
  }

  get entries(): readonly UnsentChange[] {
    return this.#entries
  }

  add(entry: UnsentChange) {
    this.#entries.push(entry)
    void this.#save()
  }

  acknowledge(hashes: readonly string[]) {
    const before = this.#entries.length
    this.#entries = this.#entries.filter((e) => !hashes.includes(e.hash))
    if (this.#entries.length !== before) void this.#save()
  }

  clear() {
    this.#entries = []
    void this.#save()
  }

  #saving: Promise<void> | null = null
  #dirty = false

  /**
   * Write the current entries. Saves are coalesced: while one is being written, later changes
   * wait and go out together in the next write, so the newest state is on disk a single write
   * after the last keystroke however fast the typing (a reload loses only what is not yet there).
   */
  #save(): Promise<void> {
    this.#dirty = true
    return (this.#saving ??= this.#drain().finally(() => (this.#saving = null)))
  }

  async #drain() {
    while (this.#dirty) {
      this.#dirty = false
      await this.#write()
    }
  }

  async #write() {
    const db = await this.#database()
    if (!db || !this.#loaded) {
      if (db && !this.#loaded) await this.load()
      if (!db) return
    }
    await new Promise<void>((resolve) => {
      const tx = db.transaction(STORE, 'readwrite')
      if (this.#entries.length) tx.objectStore(STORE).put(this.#entries, this.key)
      else tx.objectStore(STORE).delete(this.key)
      tx.oncomplete = () => resolve()
      tx.onerror = () => resolve()
      tx.onabort = () => resolve()
    })
  }
}
