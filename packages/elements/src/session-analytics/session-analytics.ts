import { html, nothing, svg, type PropertyValues } from 'lit'
import { property, state } from 'lit/decorators.js'
import { ANALYTICS_RANGES, needsAttention, Permission, Rule, type AnalyticsRange, type AnalyticsResponse, type OwnActivity, type ParticipantAnalytics } from '@session-kit/core'
import { downloadResponse } from '../internal/download.js'
import { count, duration, relativeTime } from '../internal/format.js'
import { errorMessage } from '../internal/http.js'
import { LoadController } from '../internal/load-controller.js'
import { RoomController } from '../room-controller.js'
import { SessionElement } from '../session-element.js'
import { statusStyles } from '../shared-styles.js'
import { styles } from './session-analytics.styles.js'

/** At most one refresh this often, however busy the room. */
const MIN_REFRESH_MS = 5_000

type SortKey = 'name' | 'role' | 'engagementScore' | 'codeChanges' | 'chars' | 'executions' | 'chatMessages' | 'activeSeconds' | 'connectedSeconds'

const COLUMNS: { key: SortKey; label: string; numeric: boolean }[] = [
  { key: 'name', label: 'Name', numeric: false },
  { key: 'role', label: 'Role', numeric: false },
  { key: 'engagementScore', label: 'Engagement', numeric: true },
  { key: 'codeChanges', label: 'Changes', numeric: true },
  { key: 'chars', label: 'Characters + / −', numeric: true },
  { key: 'executions', label: 'Runs', numeric: true },
  { key: 'chatMessages', label: 'Messages', numeric: true },
  { key: 'activeSeconds', label: 'Active', numeric: true },
  { key: 'connectedSeconds', label: 'Connected', numeric: true },
]

const RANGE_LABELS: Record<AnalyticsRange, string> = { '1h': 'Last hour', '24h': 'Last 24 hours', all: 'Whole session' }

const sortValue = (p: ParticipantAnalytics, key: SortKey) => (key === 'chars' ? p.charsInserted + p.charsDeleted : p[key])

/**
 * How the session is going, for instructors: summary cards, a sortable table per participant, a
 * trend of code changes and runs per minute (with its data table), and a "needs attention" list —
 * learners whose runs keep failing or who have gone quiet while the room is busy (a prompt to help,
 * never a grade). Range (last hour, 24 hours, whole session), pseudonyms, CSV/JSON export. A session
 * whose owner turned on `pseudonymize` shows pseudonyms everywhere, whatever is asked. Learners and
 * observers see their own activity instead, and can download it ("Download my data": JSON, or
 * CSV). Fetches nothing until it is on screen; refreshes live while the session runs, at most once
 * every 5 s.
 *
 * @tag session-analytics
 * @summary Session analytics: engagement, contribution, trend, needs attention, export.
 *
 * @csspart cards - The summary cards.
 * @csspart table - The per-participant table.
 * @csspart chart - The trend chart.
 * @csspart attention - The "needs attention" list.
 * @csspart download-own - Learners and observers: the "Download my data" buttons (JSON, CSV).
 *
 * @cssprop --session-analytics-chart-height - Height of the trend chart (default 10rem).
 * @cssprop --session-analytics-changes-color - The code-changes line (default the accent colour).
 * @cssprop --session-analytics-runs-color - The runs line (default the success colour).
 */
export class SessionAnalytics extends SessionElement {
  /** @internal Lit styles. */
  static override styles = [SessionElement.baseStyles, styles, statusStyles]

  @property({ reflect: true }) theme?: 'light' | 'dark'
  /** The range shown first. */
  @property() range: AnalyticsRange = 'all'
  /** Show pseudonyms ("Participant 3") instead of names. */
  @property({ type: Boolean, reflect: true }) anonymize = false
  /** "Needs attention": a learner whose last this-many runs all failed. */
  @property({ type: Number, attribute: 'failing-runs' }) failingRuns = 3
  /** "Needs attention": a learner without activity for this many minutes while others are active. */
  @property({ type: Number, attribute: 'idle-minutes' }) idleMinutes = 5
  /** Seconds between refreshes while the room is live (code changes are not announced to this element). */
  @property({ type: Number, attribute: 'refresh-interval' }) refreshInterval = 15
  /** Explain to those who may not see the analytics instead of showing their own activity. */
  @property({ type: Boolean, reflect: true, attribute: 'show-denied' }) showDenied = false

  @state() private _error = ''
  @state() private _sort: { key: SortKey; dir: 1 | -1 } = { key: 'engagementScore', dir: -1 }
  @state() private _visible = false

  #lastFetch = 0
  #timer?: ReturnType<typeof setTimeout>
  #poll?: ReturnType<typeof setInterval>
  #observer?: IntersectionObserver
  /** The figures: the whole session's for those who may see them, or one's own; a newer request drops an older one's answer. */
  #figures = new LoadController<AnalyticsResponse | OwnActivity, [string]>(this, {
    // Loaded when asked (on screen, throttled), never because an update happened.
    args: () => {
      const state = this.#room.state
      if (!state) return null
      const full = state.can(Permission.VIEW_ANALYTICS)
      if (!full && (this.showDenied || !state.can(Rule.VIEW_OWN_ACTIVITY))) return null
      return [full ? `/analytics?range=${this.range}&anonymize=${this.anonymize}` : `/analytics/me?range=${this.range}`]
    },
    manual: true,
    request: ([path], signal) => {
      this.#asked = path.includes('anonymize=true')
      return this.#room.state!.client.api('GET', path, undefined, signal)
    },
    failure: (e) => `The analytics could not be loaded: ${e.message}`,
    isEmpty: () => false,
    onLoad: (value) => {
      this._error = ''
      // Pseudonyms nobody asked for: the session's own setting.
      this.#enforced = 'session' in value && value.anonymized && !this.#asked
    },
  })
  /** Whether the last request asked for pseudonyms, and whether the answer had them regardless. */
  #asked = false
  #enforced = false

  #room = new RoomController(this, {
    onChange: (state, previous) => {
      if (state?.status === 'live' && previous?.status !== 'live') this.#refresh()
    },
    events: {
      joined: () => this.#refresh(),
      left: () => this.#refresh(),
      chat: () => this.#refresh(),
      run: () => this.#refresh(),
      permissions: () => this.#refresh(),
    },
  })

  override connectedCallback() {
    super.connectedCallback()
    this.#observer = new IntersectionObserver((entries) => {
      const visible = entries.some((e) => e.isIntersecting)
      if (visible === this._visible) return
      this._visible = visible
      if (visible) this.#refresh()
    })
    this.#observer.observe(this)
    this.#startPolling()
  }

  /** (Re)start the periodic refresh at `refresh-interval`, never faster than MIN_REFRESH_MS. */
  #startPolling() {
    clearInterval(this.#poll)
    this.#poll = setInterval(() => this.#refresh(), Math.max(MIN_REFRESH_MS, this.refreshInterval * 1000))
  }

  override disconnectedCallback() {
    super.disconnectedCallback()
    this.#observer?.disconnect()
    clearInterval(this.#poll)
    clearTimeout(this.#timer)
  }

  protected override updated(changed: PropertyValues) {
    if ((changed.has('range') && changed.get('range') !== undefined) || (changed.has('anonymize') && changed.get('anonymize') !== undefined)) this.#refresh(true)
    if (changed.has('refreshInterval') && this.isConnected) this.#startPolling()
  }

  /** Refresh now, or as soon as 5 s have passed since the last one (`now`: a change of view). */
  #refresh(now = false) {
    const state = this.#room.state
    if (!this._visible || state?.status !== 'live' || !state.participant) return
    if (now) {
      clearTimeout(this.#timer)
      this.#timer = undefined
      void this.#load()
      return
    }
    if (this.#timer) return
    const wait = this.#lastFetch + MIN_REFRESH_MS - Date.now()
    if (wait <= 0) void this.#load()
    else this.#timer = setTimeout(() => ((this.#timer = undefined), void this.#load()), wait)
  }

  /** Reload now (e.g. after the page changed something the room does not announce). */
  reload() {
    this.#refresh(true)
  }

  #load() {
    this.#lastFetch = Date.now()
    void this.#figures.reload()
  }

  async #export(format: 'csv' | 'json') {
    const state = this.#room.state!
    const res = await state.client.api('GET', `/analytics/export?format=${format}&range=${this.range}&anonymize=${this.anonymize}`)
    if (!res.ok) {
      this._error = `The export failed: ${await errorMessage(res)}`
      return
    }
    await downloadResponse(res, `analytics.${format}`, this)
  }

  #sortBy(key: SortKey) {
    const numeric = COLUMNS.find((c) => c.key === key)!.numeric
    this._sort = this._sort.key === key ? { key, dir: this._sort.dir === 1 ? -1 : 1 } : { key, dir: numeric ? -1 : 1 }
  }

  protected override render() {
    const state = this.#room.state
    if (!state) return html`<p class="empty">Analytics work inside a &lt;session-room&gt;.</p>`
    if (!state.participant) return html`<p class="empty" role="status">Connecting…</p>`
    const full = state.can(Permission.VIEW_ANALYTICS)
    if (!full) {
      if (this.showDenied) return html`<p class="empty" part="denied">Session analytics are for instructors.</p>`
      return this.#renderOwn()
    }
    const value = this.#figures.value
    const data = value && 'session' in value ? value : null
    const error = this._error || this.#figures.error
    return html`
      ${this.#renderBar(state.can(Permission.EXPORT_DATA), this.#enforced)}
      ${error ? html`<p class="error" role="alert">${error} <button @click=${() => this.#refresh(true)}>Try again</button></p>` : nothing}
      ${!data ? html`<p class="empty" role="status">${this._visible ? 'Loading analytics…' : 'Analytics load when they are on screen.'}</p>` : this.#renderData(data)}
    `
  }

  /** Learners and observers: their own activity as a file (the server names it). */
  async #downloadOwn(format: 'csv' | 'json') {
    const state = this.#room.state!
    const res = await state.client.api('GET', `/analytics/me?format=${format}&range=${this.range}`)
    if (!res.ok) {
      this._error = `The download failed: ${await errorMessage(res)}`
      return
    }
    this._error = ''
    await downloadResponse(res, `my-activity.${format}`, this)
  }

  #renderBar(canExport: boolean, enforced: boolean) {
    return html`<div class="bar">
      <fieldset>
        <legend class="visually-hidden">Range</legend>
        ${ANALYTICS_RANGES.map(
          (r) => html`<label
            ><input
              type="radio"
              name="range"
              value=${r}
              .checked=${this.range === r}
              @change=${() => {
                this.range = r
              }}
            />${RANGE_LABELS[r]}</label
          >`,
        )}
      </fieldset>
      <label
        ><input
          type="checkbox"
          .checked=${this.anonymize || enforced}
          ?disabled=${enforced}
          @change=${(e: Event) => {
            this.anonymize = (e.target as HTMLInputElement).checked
          }}
        />
        Pseudonyms${enforced ? html` <small>(always on in this session)</small>` : nothing}</label
      >
      <span class="spacer"></span>
      ${canExport
        ? html`<span class="exports"><button @click=${() => this.#export('csv')}>Export CSV</button><button @click=${() => this.#export('json')}>Export JSON</button></span>`
        : nothing}
    </div>`
  }

  #renderData(d: AnalyticsResponse) {
    const s = d.session
    if (!d.participants.length) return html`<p class="empty">Nothing has happened in this session yet: figures appear once people join.</p>`
    const attention = needsAttention(d.participants, { now: Date.parse(d.generatedAt), failingRuns: this.failingRuns, idleMinutes: this.idleMinutes })
    return html`
      <dl class="cards" part="cards" aria-label="Summary for ${RANGE_LABELS[d.range].toLowerCase()}">
        ${this.#card('Duration', duration(s.durationSeconds))}
        ${this.#card('Participants', String(s.participantCount), `at most ${s.peakParticipants} at once`)}
        ${this.#card('Active now', String(s.activeParticipants), 'did something in the last 5 minutes')}
        ${this.#card('Code changes', s.codeChanges.toLocaleString(), `${s.codeChangesPerMinute.toLocaleString()} a minute`)}
        ${this.#card('Runs', s.executions.toLocaleString(), `${s.executionsPerMinute.toLocaleString()} a minute`)}
        ${this.#card('Average time in session', duration(s.averageSessionSeconds))}
        ${this.#card('Engagement', String(s.engagementScore), d.participants.some((p) => p.role === 'learner') ? 'out of 100: the learners’ average' : 'out of 100: everyone’s average')}
      </dl>
      <h3 id="attention">Needs attention</h3>
      ${attention.length
        ? html`<ul class="attention" part="attention" aria-labelledby="attention">
            ${attention.map((a) => html`<li><strong>${a.name}</strong> <span class="why">${a.reasons.map((r) => r.message).join(' ')}</span></li>`)}
          </ul>`
        : html`<p class="empty">No one needs attention right now.</p>`}
      <h3 id="people">Participants</h3>
      ${this.#renderTable(d.participants)}
      <h3 id="trend">Code changes and runs per minute</h3>
      ${this.#renderChart(d)}
      <p class="updated" aria-live="off">Updated ${relativeTime(d.generatedAt)}${this.#figures.pending ? ' · refreshing…' : ''}</p>
    `
  }

  #card(label: string, value: string, detail?: string) {
    return html`<div class="card">
      <dt>${label}</dt>
      <dd>${value}${detail ? html` <small>${detail}</small>` : nothing}</dd>
    </div>`
  }

  #renderTable(people: ParticipantAnalytics[]) {
    const { key, dir } = this._sort
    const rows = [...people].sort((a, b) => {
      const x = sortValue(a, key)
      const y = sortValue(b, key)
      return (typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y))) * dir
    })
    return html`<div class="table-wrap" tabindex="0" role="region" aria-labelledby="people">
      <table part="table" aria-labelledby="people">
        <thead>
          <tr>
            ${COLUMNS.map(
              (c) => html`<th
                scope="col"
                class=${c.numeric ? 'num' : ''}
                aria-sort=${c.key === key ? (dir === 1 ? 'ascending' : 'descending') : nothing}
              >
                <button @click=${() => this.#sortBy(c.key)}>${c.label}</button>
              </th>`,
            )}
          </tr>
        </thead>
        <tbody>
          ${rows.map(
            (p) => html`<tr>
              <th scope="row">${p.name}${p.testUser ? html` <small class="test-user">(student view)</small>` : nothing}${p.online ? html` <span class="visually-hidden">(online)</span>●` : nothing}</th>
              <td>${p.role}</td>
              <td class="num"><span class="score">${p.engagementScore}</span></td>
              <td class="num">${p.codeChanges}</td>
              <td class="num">+${p.charsInserted} / −${p.charsDeleted}</td>
              <td class="num">${p.executions}</td>
              <td class="num">${p.chatMessages}</td>
              <td class="num">${duration(p.activeSeconds)}</td>
              <td class="num">${duration(p.connectedSeconds)}</td>
            </tr>`,
          )}
        </tbody>
      </table>
    </div>`
  }

  #renderChart(d: AnalyticsResponse) {
    const points = d.series
    const W = 600
    const H = 160
    const step = d.seriesStepMinutes
    const max = Math.max(1, ...points.map((p) => Math.max(p.codeChanges, p.executions)))
    const x = (i: number) => (points.length <= 1 ? W / 2 : (i / (points.length - 1)) * W)
    const y = (v: number) => H - (v / max) * (H - 12)
    const line = (pick: (p: (typeof points)[number]) => number) => points.map((p, i) => `${x(i).toFixed(1)},${y(pick(p)).toFixed(1)}`).join(' ')
    const time = (iso: string) => new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })
    const busiest = points.reduce((b, p) => (p.codeChanges > b.codeChanges ? p : b), points[0] ?? { codeChanges: 0, minute: d.from, executions: 0, activeParticipants: 0 })
    const summary = points.length
      ? `From ${time(points[0]!.minute)} to ${time(points.at(-1)!.minute)}: ${d.session.codeChanges} code changes and ${d.session.executions} runs${busiest.codeChanges ? `; busiest at ${time(busiest.minute)} with ${busiest.codeChanges} changes` : ''}.`
      : 'No activity yet.'
    const active = points.filter((p) => p.codeChanges || p.executions || p.activeParticipants)
    const rows = `${step > 1 ? count(active.length, `stretch of ${step} minutes`, `stretches of ${step} minutes`) : count(active.length, 'minute')} with activity`
    return html`<div class="chart" part="chart">
      <svg viewBox="0 0 ${W} ${H}" preserveAspectRatio="none" role="img" aria-labelledby="trend chart-desc">
        <desc id="chart-desc">${summary}${active.length ? ` The data table below lists the ${rows}.` : ''}</desc>
        ${[0, 0.5, 1].map((f) => svg`<line class="grid" x1="0" x2=${W} y1=${y(max * f)} y2=${y(max * f)}></line>`)}
        ${svg`<text class="axis" x="2" y="10">${max}${step > 1 ? ` per ${step} min` : ''}</text>`}
        ${points.length ? svg`<polyline class="line changes" points=${line((p) => p.codeChanges)}></polyline><polyline class="line runs" points=${line((p) => p.executions)}></polyline>` : nothing}
      </svg>
      <div class="legend" aria-hidden="true">
        <span><span class="swatch changes"></span>Code changes</span><span><span class="swatch runs"></span>Runs</span>
        <span>${points.length ? `${time(points[0]!.minute)} – ${time(points.at(-1)!.minute)}` : ''}</span>
      </div>
      <details>
        <summary>Data table (${rows})</summary>
        <div class="table-wrap" tabindex="0" role="region" aria-label="Activity by minute"><table>
          <thead>
            <tr>
              <th scope="col">${step > 1 ? `${step} minutes from` : 'Minute'}</th>
              <th scope="col" class="num">Code changes</th>
              <th scope="col" class="num">Runs</th>
              <th scope="col" class="num">Active people</th>
            </tr>
          </thead>
          <tbody>
            ${active.map(
              (p) => html`<tr>
                <th scope="row">${time(p.minute)}</th>
                <td class="num">${p.codeChanges}</td>
                <td class="num">${p.executions}</td>
                <td class="num">${p.activeParticipants}</td>
              </tr>`,
            )}
          </tbody>
        </table></div>
      </details>
    </div>`
  }

  #renderOwn() {
    const value = this.#figures.value
    const o = value && !('session' in value) ? value : null
    const error = this._error || this.#figures.error
    if (error) return html`<p class="error" role="alert">${error} <button @click=${() => this.#refresh(true)}>Try again</button></p>`
    if (!o) return html`<p class="empty" role="status">${this._visible ? 'Loading your activity…' : 'Your activity loads when it is on screen.'}</p>`
    return html`<div class="bar">
        <h3 id="own">Your activity in this session</h3>
        <span class="spacer"></span>
        <span class="exports" part="download-own"
          ><button @click=${() => this.#downloadOwn('json')}>Download my data</button><button @click=${() => this.#downloadOwn('csv')} aria-label="Download my data as CSV">CSV</button></span
        >
      </div>
      <dl class="cards" part="cards" aria-labelledby="own">
        ${this.#card('Code changes', String(o.codeChanges), `${count(o.charsInserted, 'character')} added, ${o.charsDeleted.toLocaleString()} removed`)}
        ${this.#card('Runs', String(o.executions))}
        ${this.#card('Messages', String(o.chatMessages))}
        ${this.#card('Active', duration(o.activeSeconds), 'counting each minute in which you edited, ran code or chatted')}
        ${this.#card('Connected', duration(o.connectedSeconds))}
      </dl>`
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'session-analytics': SessionAnalytics
  }
}
