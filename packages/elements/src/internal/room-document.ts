import { CloseCode, type ClientEvent, type ServerEvent, type SyncMode } from '@session-kit/core'
import { loadAutomerge } from './automerge.js'
import type { DocSync } from './doc-sync.js'
import type { TextSource } from '../text-source.js'
import { ViewSync } from './view-sync.js'

/** How long edits sent before a switch to view may take to be acknowledged (they are durable in moments). */
const SETTLE_MS = 1500

/** What a room's document needs from its connection. */
export interface RoomDocumentHost {
  /** Send an event on the current socket; false when not connected. */
  sendEvent(event: ClientEvent): boolean
  /** The source (or an error elements show) changed. */
  changed(): void
  /** Connect again at once (to rejoin as a full peer after edits were lost). */
  reconnect(): void
  /** Whether the participant may edit the code now. */
  canEdit(): boolean
  /** Whether the participant will probably edit (fetch Automerge before the server says so). */
  likelyWriter(): boolean
  /** Where this person's unsent edits are kept on this device. */
  storeKey(): string
  /** Automerge or the replica's code could not load. */
  failed(message: string): void
}

/**
 * The room's document on one page, across connections and modes (protocol 2). A person who may
 * edit holds a full Automerge replica (`DocSync`); one who may not is a light viewer (`ViewSync`:
 * plain text and splices, no wasm). The server decides at each hello and tells of every switch;
 * `source` is what editors show, and changes only once the new one holds the whole text, so an
 * upgrade or a downgrade never shows an empty or half-synced file.
 */
export class RoomDocument {
  #source: TextSource | null = null
  #doc: DocSync | null = null
  #view: ViewSync | null = null
  #loading: Promise<DocSync> | null = null
  /** The current connection's mode: null before its welcome. */
  #mode: SyncMode | null = null
  #sendBinary: ((bytes: Uint8Array) => void) | null = null
  /** Sync frames that came before the replica's code had loaded, for the current connection. */
  #early: Uint8Array[] | null = null
  /** A `{type: "mode", mode: "full"}` is on its way or about to be. */
  #upgrading = false
  /** The server refused our writes: the next connection is a full peer once, to find which edits were lost. */
  #reconcile = false
  /** The current connection is that one: once the replica has synced, drop to view. */
  #reconciling = false
  #settleTimer?: ReturnType<typeof setTimeout>
  #stopped = false

  /** Made when an element first shows the code. */
  constructor(private readonly host: RoomDocumentHost) {
    // Writers' pages fetch Automerge while the hello and welcome travel; an observer's never does.
    if (host.likelyWriter()) void this.#loadDoc().catch(() => {})
  }

  /** What editors show: the replica or the view, whichever this connection holds, once it has the text. */
  get source(): TextSource | null {
    return this.#source
  }

  /** The Automerge replica, once loaded (only for those who may edit). */
  get doc(): DocSync | null {
    return this.#doc
  }

  /** How the current connection takes part, once welcomed. */
  get mode(): SyncMode | null {
    return this.#mode
  }

  /**
   * The mode fields of the next hello: a full peer, unless the server would rather make it a
   * viewer (it does for those who cannot edit) — but not just after a refused write.
   */
  hello(): { mode: 'full'; allowView: boolean } {
    this.#reconciling = this.#reconcile
    this.#reconcile = false
    return { mode: 'full', allowView: !this.#reconciling }
  }

  /** A new socket is open: binary frames go out through `sendBinary`. */
  opened(sendBinary: (bytes: Uint8Array) => void) {
    this.#sendBinary = sendBinary
    this.#mode = null
    this.#early = null
    this.#upgrading = false
  }

  /** The socket closed (with `code`): the replica stops sending; after a refusal it is rebuilt. */
  closed(code?: number) {
    clearTimeout(this.#settleTimer)
    this.#sendBinary = null
    this.#mode = null
    this.#early = null
    this.#upgrading = false
    this.#reconciling = false
    this.#doc?.detach()
    // Our replica may hold changes the server will not take: it is rebuilt from the server's.
    if (code === CloseCode.PermissionsChanged || code === CloseCode.WriteRejected || code === CloseCode.Forbidden) {
      if (this.#doc?.synced) this.#doc.discardReplica()
      if (code === CloseCode.WriteRejected && this.#doc) this.#reconcile = true
    }
  }

  /** The room is left for good: the replica's worker ends. */
  stop() {
    this.#stopped = true
    this.closed()
    this.#doc?.close()
    this.#doc = null
    this.#loading = null
  }

  /** The server's answer to the hello: a full peer (as asked) or a viewer. */
  welcome(mode: SyncMode | undefined) {
    if (mode === 'view') this.#enterView()
    else this.#enterFull()
  }

  /** A binary frame: an Automerge sync message, for a full connection. */
  binary(bytes: Uint8Array) {
    if (this.#mode !== 'full') return
    if (this.#early) this.#early.push(bytes)
    else this.#doc?.receive(bytes)
  }

  /** The server events that concern the document. */
  event(event: ServerEvent) {
    switch (event.type) {
      case 'mode':
        if (event.mode === 'full') this.#enterFull()
        else this.#enterView()
        break
      case 'text':
        if (this.#mode === 'view') this.#viewSync().load(event.files, event.heads)
        break
      case 'splices':
        if (this.#mode === 'view') this.#view?.apply(event.splices, event.heads)
        break
      case 'ack':
        this.#doc?.acknowledge(event.changes)
        break
      case 'permissions':
        this.#maybeUpgrade()
        break
    }
  }

  #enterFull() {
    this.#mode = 'full'
    this.#upgrading = false
    if (this.#doc) return this.#attach(this.#doc)
    // Hold the server's first sync frames while Automerge loads (a writer's page started early).
    this.#early = []
    this.#loadDoc().then(
      (doc) => {
        if (this.#mode === 'full' && this.#early) this.#attach(doc)
      },
      () => {},
    )
  }

  #attach(doc: DocSync) {
    const send = this.#sendBinary
    if (!send) return
    doc.attach(send)
    const early = this.#early ?? []
    this.#early = null
    for (const frame of early) doc.receive(frame)
    // A replica kept across a reconnect (with offline edits) is shown at once.
    if (doc.synced) this.#docReady(doc)
  }

  #enterView() {
    this.#mode = 'view'
    this.#upgrading = false
    this.#early = null
    const doc = this.#doc
    if (doc) {
      doc.detach()
      // Edits this replica holds were made with a permission since lost: never upload them later.
      if (doc.synced) doc.discardReplica()
      if (doc.pending && !this.#reconciling) this.#settle(doc)
    }
    const view = this.#viewSync()
    // Its text is from an earlier time as a viewer: wait for the `text` frame that follows.
    if (this.#source !== view) view.reset()
  }

  /**
   * Edits typed just before a switch to view: those that reached the server are acknowledged in
   * moments; any still waiting were not saved. Rejoin once as a full peer to find them and show
   * them (the editor's "unsent edits"), then view again.
   */
  #settle(doc: DocSync) {
    clearTimeout(this.#settleTimer)
    this.#settleTimer = setTimeout(() => {
      if (this.#mode !== 'view' || !doc.pending) return
      this.#reconcile = true
      this.host.reconnect()
    }, SETTLE_MS)
  }

  #viewSync(): ViewSync {
    if (this.#view) return this.#view
    const view = new ViewSync()
    view.addEventListener('ready', () => {
      if (this.#mode === 'view') this.#setSource(view)
    })
    this.#view = view
    return view
  }

  #docReady(doc: DocSync) {
    if (this.#mode !== 'full' || this.#doc !== doc) return
    this.#setSource(doc)
    if (this.#reconciling) this.#afterReconcile(doc)
  }

  /**
   * Once the replica has sorted out the edits kept from before (the lost ones are shown, the rest
   * acknowledged: nothing pending), a person who cannot edit goes back to viewing.
   */
  #afterReconcile(doc: DocSync) {
    const done = () => {
      if (doc.pending) return
      doc.removeEventListener('saved', done)
      if (!this.#reconciling || this.#doc !== doc) return
      this.#reconciling = false
      if (!this.host.canEdit()) this.host.sendEvent({ type: 'mode', mode: 'view' })
    }
    doc.addEventListener('saved', done)
    done()
  }

  /** A viewer who may now edit becomes a full peer on the same socket, once Automerge has loaded. */
  #maybeUpgrade() {
    if (this.#mode !== 'view' || this.#upgrading || !this.host.canEdit()) return
    this.#upgrading = true
    this.#loadDoc().then(
      () => {
        if (this.#mode === 'view' && this.#upgrading && this.host.canEdit()) this.host.sendEvent({ type: 'mode', mode: 'full' })
        else this.#upgrading = false
      },
      () => (this.#upgrading = false),
    )
  }

  #loadDoc(): Promise<DocSync> {
    if (!this.#loading) {
      // The replica's code loads only where a person may edit.
      this.#loading = Promise.all([loadAutomerge(), import('./doc-sync.js')]).then(([A, { DocSync, UnsentStore }]) => {
        const doc = new DocSync(A, new UnsentStore(this.host.storeKey()))
        // The room was left while the code loaded: its worker ends at once.
        if (this.#stopped) doc.close()
        else this.#doc = doc
        doc.addEventListener('ready', () => this.#docReady(doc))
        return doc
      })
      this.#loading.catch((e: Error) => {
        this.#loading = null
        this.host.failed(`The live editor could not load (${e.message}). The code stays readable.`)
      })
    }
    return this.#loading
  }

  #setSource(source: TextSource) {
    if (this.#source === source) return
    this.#source = source
    this.host.changed()
  }
}
