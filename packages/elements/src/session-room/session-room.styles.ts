import { css } from 'lit'
import { participantColorClasses } from '../session-element.js'

export const styles = css`
  :host {
    display: block;
  }
  .status {
    display: flex;
    flex-wrap: wrap;
    align-items: center;
    gap: 0.5rem;
    min-height: 2rem;
    padding: 0.25rem 0.6rem;
    margin-bottom: 0.5rem;
    background: var(--_surface);
    border: 1px solid var(--_border);
    border-radius: var(--_radius);
    font-size: 0.85rem;
  }
  .dot {
    inline-size: 0.6rem;
    block-size: 0.6rem;
    border-radius: 50%;
    background: var(--_muted);
    flex: none;
  }
  .live .dot {
    background: var(--_ok);
  }
  .connecting .dot,
  .waiting .dot {
    background: var(--_warning);
  }
  .offline .dot,
  .error .dot {
    background: var(--_danger);
  }
  /* Everything the bar says is read in full: at a narrow width it wraps (the people go below). */
  .status-text {
    flex: 1 1 12rem;
    min-width: 0;
    overflow-wrap: anywhere;
  }
  .recording {
    flex: none;
    font-size: 0.75rem;
    font-weight: 700;
    padding: 0.05rem 0.5rem;
    border-radius: 999px;
    color: #fff;
    background: var(--session-color-recording, #b42318);
  }
  .recording.paused {
    color: var(--_fg);
    background: none;
    border: 1px solid var(--_warning);
  }
  /* Forced colours drop fills: the status dot and the recording badge keep an edge (their words say the state). */
  @media (forced-colors: active) {
    .dot,
    .recording {
      border: 1px solid;
    }
  }
  .notice {
    color: var(--_warning);
  }
  .presence {
    display: flex;
    gap: 0.25rem;
    list-style: none;
    margin: 0;
    padding: 0;
  }
  .avatar {
    position: relative;
    display: grid;
    place-items: center;
    inline-size: 1.6rem;
    block-size: 1.6rem;
    border-radius: 50%;
    background: var(--_c, var(--_accent));
    color: #fff;
    font-size: 0.7rem;
    font-weight: 600;
    overflow: hidden;
  }
  .avatar img {
    inline-size: 100%;
    block-size: 100%;
    object-fit: cover;
  }
  ${participantColorClasses}
  .invitation {
    max-width: 32rem;
    padding: 1rem 1.25rem;
    border: 1px solid var(--_border);
    border-radius: var(--_radius);
    background: var(--_surface);
  }
  .invitation h2 {
    margin: 0 0 0.5rem;
    font-size: 1.1rem;
  }
  .invitation form {
    display: grid;
    gap: 0.75rem;
  }
  .invitation label {
    display: grid;
    gap: 0.25rem;
    font-size: 0.9rem;
  }
  .invitation input {
    font: inherit;
    padding: 0.35rem 0.5rem;
    border: 1px solid var(--_border);
    border-radius: 6px;
    background: var(--_bg);
    color: var(--_fg);
  }
  .invitation-actions {
    display: flex;
    gap: 0.5rem;
  }
  .error {
    margin: 0 0 0.5rem;
    padding: 0.5rem 0.75rem;
    border-radius: var(--_radius);
    border: 1px solid var(--_danger);
    color: var(--_danger);
    background: var(--_bg);
  }
`
