import { html, nothing, type PropertyValues } from 'lit'
import { property, query, state } from 'lit/decorators.js'
import { languageForFile, Permission, Rule, type Language, type SnapshotEntry, type SnapshotEvent } from '@session-kit/core'
import { SessionBeforeRestoreEvent } from '../events/events.js'
import { downloadBlob, downloadResponse } from '../internal/download.js'
import { BusyController } from '../internal/busy-controller.js'
import { errorMessage, okOrThrow } from '../internal/http.js'
import { LoadController } from '../internal/load-controller.js'
import type { RoomClient } from '../internal/room-client.js'
import { relativeTime } from '../internal/format.js'
import { RoomController } from '../room-controller.js'
import { SessionElement, toolbarStyles } from '../session-element.js'
import { formStyles, listStyles, statusStyles } from '../shared-styles.js'
import { styles } from './session-snapshots.styles.js'

/** A snapshot as the element lists it; `files` once it was opened. The contract lives in core. */
export type { SnapshotEntry } from '@session-kit/core'

type Destroyable = { destroy(): void }

/**
 * Named copies of the room's code. Capture one with a title and description (learners' are
 * personal: visible to them and instructors); preview it beside the current code with the
 * differences highlighted; restore it for everyone (a normal change every editor receives, history
 * kept — after a confirmation and a cancelable `session-before-restore` event); export it as JSON,
 * or download its code (each file under its own name; in the preview, the file shown); delete your
 * own (instructors any). The list follows what others save, delete and restore, live.
 *
 * @tag session-snapshots
 * @summary Snapshots: capture, preview with a diff, restore, export or download the code, delete.
 *
 * @csspart form - The form to capture a snapshot.
 * @csspart list - The snapshots.
 * @csspart snapshot - One snapshot.
 * @csspart preview - The preview with the diff against the current code.
 *
 * @cssprop --session-snapshots-preview-height - Height of the diff (default 18rem).
 *
 * @event session-before-restore - Cancelable: about to restore a snapshot for everyone (`snapshot`). Call `preventDefault()` to stop it.
 */
export class SessionSnapshots extends SessionElement {
  /** @internal Lit styles. */
  static override styles = [SessionElement.baseStyles, formStyles, toolbarStyles, styles, statusStyles, listStyles]

  @property({ reflect: true }) theme?: 'light' | 'dark'

  @state() private _error = ''
  @state() private _preview: { snapshot: SnapshotEntry; file: string } | null = null
  @state() private _confirmRestore: string | null = null
  @state() private _confirmDelete: string | null = null
  /** Someone else restored a snapshot: said where it is seen, until the next thing done here. */
  @state() private _restoredBy = ''

  @query('.diff') private _diffHost?: HTMLElement

  #diff: Destroyable | null = null
  #room = new RoomController(this, {
    needsDocument: true,
    events: { snapshot: (e) => this.#changed(e) },
  })
  /** Loaded for each connection; between loads the room's `snapshot` events keep it current. */
  #list = new LoadController<SnapshotEntry[], [RoomClient]>(this, {
    args: () => (this.#room.state?.status === 'live' ? [this.#room.state.client] : null),
    request: ([client], signal) => client.api('GET', '/snapshots', undefined, signal),
    parse: (json) => (json as { snapshots: SnapshotEntry[] }).snapshots,
    failure: (e) => `The snapshots could not be loaded: ${e.message}`,
    onLoad: () => (this._error = ''),
  })
  #busy = new BusyController(this)

  /** Saved here or by someone else: into the list once, newest first. */
  #add(s: SnapshotEntry) {
    const list = this.#list.value
    if (list && !list.some((x) => x.id === s.id)) this.#list.value = [s, ...list]
  }

  #remove(id: string) {
    if (this.#list.value) this.#list.value = this.#list.value.filter((x) => x.id !== id)
    if (this._preview?.snapshot.id === id) this._preview = null
    if (this._confirmRestore === id) this._confirmRestore = null
    if (this._confirmDelete === id) this._confirmDelete = null
  }

  /** The room's `snapshot` event: the list follows, and what others did is said. */
  #changed(e: SnapshotEvent) {
    if (e.change === 'created' && e.snapshot) this.#add(e.snapshot)
    if (e.change === 'deleted') this.#remove(e.id)
    if (e.by.userId === this.#room.state?.participant?.userId) return
    if (e.change === 'created') this.#busy.announce(`${e.by.name} saved the snapshot “${e.title}”.`)
    if (e.change === 'deleted') this.#busy.announce(`${e.by.name} deleted the snapshot “${e.title}”.`)
    if (e.change === 'restored') this._restoredBy = `${e.by.name} restored the snapshot “${e.title}” for everyone; the code before it stays in the history.`
  }

  async #capture(e: Event) {
    e.preventDefault()
    const form = e.target as HTMLFormElement
    const data = new FormData(form)
    const title = String(data.get('title') ?? '').trim()
    if (!title) {
      this._error = 'Give the snapshot a title.'
      return
    }
    this.#busy.busy = 'capture'
    try {
      const res = await this.#room.state!.client.api('POST', '/snapshots', { title, description: String(data.get('description') ?? '').trim() || undefined })
      await okOrThrow(res)
      form.reset()
      this.#add((await res.json()) as SnapshotEntry)
      this.#busy.announce(`Snapshot “${title}” saved.`)
      this._error = ''
    } catch (err) {
      this._error = `The snapshot was not saved: ${(err as Error).message}`
    } finally {
      this.#busy.busy = ''
    }
  }

  async #openPreview(s: SnapshotEntry) {
    if (this._preview?.snapshot.id === s.id) {
      this._preview = null
      return
    }
    this.#busy.busy = s.id
    try {
      const full = await this.#withFiles(s)
      this._preview = { snapshot: full, file: full.fileNames[0] ?? '' }
    } catch (err) {
      this._error = `The snapshot could not be opened: ${(err as Error).message}`
    } finally {
      this.#busy.busy = ''
    }
  }

  /** The snapshot with its files (fetched: the list carries only their names). */
  async #withFiles(s: SnapshotEntry): Promise<SnapshotEntry & { files: Record<string, string> }> {
    if (s.files) return s as SnapshotEntry & { files: Record<string, string> }
    const res = await this.#room.state!.client.api('GET', `/snapshots/${s.id}`)
    await okOrThrow(res)
    return (await res.json()) as SnapshotEntry & { files: Record<string, string> }
  }

  /** Download the code itself: each of `names` (every file by default) as a file of its own name. */
  async #downloadCode(s: SnapshotEntry, names?: string[]) {
    this.#busy.busy = s.id
    try {
      const full = await this.#withFiles(s)
      const files = names ?? full.fileNames
      for (const name of files) downloadBlob(new Blob([full.files[name] ?? ''], { type: 'text/plain;charset=utf-8' }), name, this)
      this.#busy.announce(files.length === 1 ? `Downloaded ${files[0]} from “${s.title}”.` : `Downloaded ${files.length} files from “${s.title}”: ${files.join(', ')}.`)
    } catch (err) {
      this._error = `The code could not be downloaded: ${(err as Error).message}`
    } finally {
      this.#busy.busy = ''
    }
  }

  protected override updated(changed: PropertyValues) {
    if (changed.has('_preview')) void this.#renderDiff()
  }

  async #renderDiff() {
    this.#diff?.destroy()
    this.#diff = null
    const p = this._preview
    if (!p || !this._diffHost) return
    const current = this.#room.state?.source?.text(p.file) ?? ''
    const { createDiff } = await import('./diff-view.js')
    if (this._preview !== p || !this._diffHost) return
    this.#diff = await createDiff({
      parent: this._diffHost,
      root: this.shadowRoot!,
      before: p.snapshot.files?.[p.file] ?? '',
      after: current,
      language: languageForFile(p.file, (this.#room.state?.session?.language as Language) ?? 'javascript'),
      labels: [`${p.file} in the snapshot “${p.snapshot.title}”`, `${p.file} now`],
    })
  }

  async #restore(s: SnapshotEntry) {
    this._confirmRestore = null
    const before = new SessionBeforeRestoreEvent(s)
    if (!this.dispatchEvent(before)) {
      this.#busy.announce('The restore was cancelled by the page.')
      return
    }
    this.#busy.busy = s.id
    try {
      const res = await this.#room.state!.client.api('POST', `/snapshots/${s.id}/restore`)
      await okOrThrow(res)
      this.#busy.announce(`Restored “${s.title}” for everyone. The previous code stays in the history.`)
      this._restoredBy = ''
      this._preview = null
    } catch (err) {
      this._error = `The snapshot was not restored: ${(err as Error).message}`
    } finally {
      this.#busy.busy = ''
    }
  }

  async #export(s: SnapshotEntry) {
    const res = await this.#room.state!.client.api('GET', `/snapshots/${s.id}/export`)
    if (!res.ok) {
      this._error = `The snapshot could not be exported: ${await errorMessage(res)}`
      return
    }
    await downloadResponse(res, `${s.title}.json`, this)
    this.#busy.announce(`Exported “${s.title}”.`)
  }

  async #delete(s: SnapshotEntry) {
    this._confirmDelete = null
    this.#busy.busy = s.id
    try {
      const res = await this.#room.state!.client.api('DELETE', `/snapshots/${s.id}`)
      await okOrThrow(res)
      this.#remove(s.id)
      this.#busy.announce(`Deleted “${s.title}”.`)
    } catch (err) {
      this._error = `The snapshot was not deleted: ${(err as Error).message}`
    } finally {
      this.#busy.busy = ''
    }
  }

  override disconnectedCallback() {
    super.disconnectedCallback()
    this.#diff?.destroy()
    this.#diff = null
  }

  protected override render() {
    const state = this.#room.state
    if (!state) return html`<p class="empty">Snapshots work inside a &lt;session-room&gt;.</p>`
    if (!state.participant) return html`<p class="empty" role="status">Connecting…</p>`
    const canCreate = state.can(Permission.CREATE_SNAPSHOT)
    const canRestore = state.can(Permission.RESTORE_SNAPSHOT)
    const list = this.#list
    const error = this._error || list.error
    return html`
      ${canCreate
        ? html`<form part="form" @submit=${this.#capture}>
            <label>Title <input name="title" required maxlength="200" placeholder="Working version" /></label>
            <label>Description <input name="description" maxlength="2000" placeholder="What this version does (optional)" /></label>
            <button class="primary" type="submit" ?disabled=${this.#busy.is('capture')}>Save snapshot</button>
          </form>`
        : nothing}
      ${error ? html`<p class="error" role="alert">${error}</p>` : nothing}
      ${this._restoredBy ? html`<p class="notice" role="status">${this._restoredBy} <button type="button" @click=${() => (this._restoredBy = '')}>Dismiss</button></p>` : nothing}
      ${list.status === 'idle' || list.status === 'loading'
        ? html`<p class="empty" role="status">Loading snapshots…</p>`
        : list.status === 'empty'
          ? html`<p class="empty">No snapshots yet.${canCreate ? ' Save one to keep this version of the code.' : ''}</p>`
          : html`<ul part="list" class="list" aria-label="Snapshots">
              ${(list.value ?? []).map((s) => this.#renderSnapshot(s, canRestore))}
            </ul>`}
      ${this._preview ? this.#renderPreview(this._preview, canRestore) : nothing}
      ${this.#busy.region()}
    `
  }

  #renderSnapshot(s: SnapshotEntry, canRestore: boolean) {
    const state = this.#room.state!
    const busy = this.#busy.is(s.id)
    const canDelete = state.can(Rule.DELETE_SNAPSHOT, { createdBy: s.createdBy })
    return html`<li part="snapshot" class="snapshot item ${this._preview?.snapshot.id === s.id ? 'open' : ''}">
      <span class="what">
        <span class="title">${s.title}</span>
        <span class="meta">${s.creatorName}${s.creatorRole === 'learner' ? ' (personal)' : ''} · <time datetime=${s.createdAt} title=${new Date(s.createdAt).toLocaleString()}>${relativeTime(s.createdAt)}</time> · ${s.fileNames.join(', ')}</span>
        ${s.description ? html`<span class="desc">${s.description}</span>` : nothing}
      </span>
      <span class="actions">
        <button type="button" aria-expanded=${String(this._preview?.snapshot.id === s.id)} ?disabled=${busy} @click=${() => this.#openPreview(s)}>Preview<span class="visually-hidden"> ${s.title}</span></button>
        ${canRestore
          ? this._confirmRestore === s.id
            ? html`<span role="group" aria-label="Confirm restoring ${s.title}"
                >Replace everyone’s code?
                <button type="button" class="primary" ?disabled=${busy} @click=${() => this.#restore(s)}>Restore</button>
                <button type="button" @click=${() => (this._confirmRestore = null)}>Cancel</button></span
              >`
            : html`<button type="button" @click=${() => (this._confirmRestore = s.id)}>Restore<span class="visually-hidden"> ${s.title}</span></button>`
          : nothing}
        <button type="button" title="Download the code: ${s.fileNames.join(', ')}" ?disabled=${busy} @click=${() => this.#downloadCode(s)}>
          Download code<span class="visually-hidden"> of ${s.title}</span>
        </button>
        <button type="button" title="Download the snapshot as JSON: title, description, every file" @click=${() => this.#export(s)}>Export JSON<span class="visually-hidden"> ${s.title}</span></button>
        ${canDelete
          ? this._confirmDelete === s.id
            ? html`<span role="group" aria-label="Confirm deleting ${s.title}"
                >Delete?
                <button type="button" class="danger" ?disabled=${busy} @click=${() => this.#delete(s)}>Delete</button>
                <button type="button" @click=${() => (this._confirmDelete = null)}>Cancel</button></span
              >`
            : html`<button type="button" class="danger" @click=${() => (this._confirmDelete = s.id)}>Delete<span class="visually-hidden"> ${s.title}</span></button>`
          : nothing}
      </span>
    </li>`
  }

  #renderPreview(p: { snapshot: SnapshotEntry; file: string }, canRestore: boolean) {
    return html`<section part="preview" class="preview" aria-label="Preview of ${p.snapshot.title}">
      <div class="preview-head toolbar">
        <strong>${p.snapshot.title}</strong>
        ${p.snapshot.fileNames.length > 1
          ? html`<label
              >File
              <select @change=${(e: Event) => (this._preview = { ...p, file: (e.target as HTMLSelectElement).value })}>
                ${p.snapshot.fileNames.map((f) => html`<option ?selected=${f === p.file}>${f}</option>`)}
              </select></label
            >`
          : html`<span>${p.file}</span>`}
        <button type="button" @click=${() => this.#downloadCode(p.snapshot, [p.file])}>Download ${p.file}</button>
        ${canRestore ? html`<button type="button" @click=${() => (this._confirmRestore = p.snapshot.id)}>Restore this snapshot…</button>` : nothing}
        <button type="button" @click=${() => (this._preview = null)}>Close</button>
      </div>
      <div class="diff-labels" aria-hidden="true"><span>Snapshot</span><span>Now</span></div>
      <div class="diff"></div>
    </section>`
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'session-snapshots': SessionSnapshots
  }
}
