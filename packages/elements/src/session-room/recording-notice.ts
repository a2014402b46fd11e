import { css, html, nothing, type ReactiveControllerHost } from 'lit'
import type { ServerEvent, SessionInfo } from '@session-kit/core'
import { errorMessage } from '../internal/http.js'
import type { RoomClient, ServerEventMessage } from '../internal/room-client.js'
import type { RoomState } from '../room-state.js'

type Host = ReactiveControllerHost & HTMLElement & { renderRoot: HTMLElement | DocumentFragment }

/** The consent controls in the room bar (adopted when they load). */
export const consentStyles = css`
  .consent {
    display: flex;
    flex-wrap: wrap;
    align-items: center;
    gap: 0.4rem;
  }
  .consent button {
    font-size: 0.8rem;
    padding: 0.15rem 0.6rem;
  }
  .consent button[aria-pressed='true'] {
    background: var(--_accent);
    border-color: var(--_accent);
    color: var(--session-color-on-accent, light-dark(#fff, #0d1117));
  }
  .consent-error {
    color: var(--_danger);
    flex-basis: 100%;
  }
`

/** What everyone hears when a recording starts, or on joining during one (the bar shows it all along). */
export const RECORDING_SAID = 'This session is being recorded.'

/** What the bar says of one's own choice, and what is said when one makes it. */
const CHOICE: Record<'null' | 'true' | 'false', { shown: string; said: string }> = {
  null: { shown: 'Record you by name?', said: 'You choose whether you are recorded by name: Allow, or Don’t record me, in the room bar.' },
  true: { shown: 'You are recorded by name.', said: 'You allowed recording: you are recorded by name from now on.' },
  false: { shown: 'You are not recorded.', said: 'You are not recorded: your edits appear without your name, and your chat and name are left out.' },
}

type SessionEvent = Extract<ServerEvent, { type: 'welcome' | 'session' | 'permissions' }>

/**
 * A recorded room, loaded once a room is recorded (the bar's notice itself is the room's own):
 * says so to screen readers when a recording starts and to anyone joining during one, and under the
 * `consent` policy shows one's own choice in the bar, changeable at any time (Allow / Don't record
 * me, as pressed buttons). The server applies the choice to the recording; this only asks.
 */
export class RecordingNotice {
  #busy = false
  #error = ''
  #recording: SessionInfo['recordingState']

  constructor(
    private readonly host: Host,
    readonly client: RoomClient,
    private readonly announce: (text: string) => void,
    /** Why the room is recorded now, when it just started ("Ada started recording this session."). */
    startedBy: string | null,
  ) {
    this.#recording = client.session?.recordingState ?? 'off'
    for (const type of ['welcome', 'session', 'permissions']) client.events.addEventListener(type, this.#session)
    const root = host.renderRoot
    if (root instanceof ShadowRoot && consentStyles.styleSheet) root.adoptedStyleSheets = [...root.adoptedStyleSheets, consentStyles.styleSheet]
    this.#say(client.session, startedBy)
  }

  /** The notice, after why (when a recording just started), and under `consent` where one stands. */
  #say(session: SessionInfo | null, why: string | null | undefined) {
    const consent = session?.recordingConsent ?? null
    const choice = consent === null ? CHOICE.null.said : `${CHOICE[String(consent) as 'true' | 'false'].shown} You can change this at any time in the room bar.`
    this.announce(`${why ? `${why} ` : ''}${RECORDING_SAID}${session?.recordingPolicy === 'consent' ? ` ${choice}` : ''}`)
  }

  /** A recording started (or was going when this page came back): said, with its reason. */
  #session = (e: Event) => {
    const { session, reason } = (e as ServerEventMessage<SessionEvent>).detail as SessionEvent & { reason?: string }
    if (session.recordingState !== 'off' && this.#recording === 'off') this.#say(session, reason)
    this.#recording = session.recordingState
  }

  async #choose(consent: boolean) {
    if (this.#busy) return
    this.#busy = true
    this.#error = ''
    this.host.requestUpdate()
    try {
      const res = await this.client.api('POST', '/recording-consent', { consent })
      // The room's state follows from the server (a `session` event to each of one's connections).
      if (!res.ok) throw new Error(await errorMessage(res))
      this.announce(CHOICE[String(consent) as 'true' | 'false'].said)
    } catch (e) {
      this.#error = `Your choice was not saved: ${e instanceof TypeError ? 'the server could not be reached. Try again.' : (e as Error).message}`
      this.announce(this.#error)
    } finally {
      this.#busy = false
      this.host.requestUpdate()
    }
  }

  /** Under `consent`, while the room is recorded: one's choice and the buttons to change it; else nothing. */
  render(st: RoomState | undefined) {
    const session = st?.session
    if (st?.client !== this.client || session?.recordingPolicy !== 'consent' || session.recordingState === 'off') return nothing
    const consent = session.recordingConsent ?? null
    return html`<span part="consent" class="consent" role="group" aria-labelledby="consent-choice">
      <span part="consent-choice" id="consent-choice">${CHOICE[String(consent) as 'null' | 'true' | 'false'].shown}</span>
      <button type="button" part="consent-allow" aria-pressed=${String(consent === true)} @click=${() => this.#choose(true)}>Allow</button>
      <button type="button" part="consent-decline" aria-pressed=${String(consent === false)} @click=${() => this.#choose(false)}>Don’t record me</button>
      ${this.#error ? html`<span part="consent-error" class="consent-error" role="alert">${this.#error}</span>` : nothing}
    </span>`
  }
}
