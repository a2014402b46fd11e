import { css } from 'lit'

/** The lecture's controls in the room bar and the spotlight pane (adopted when lecture mode loads). */
export const lectureStyles = css`
  .lecture {
    display: flex;
    flex-wrap: wrap;
    align-items: center;
    gap: 0.4rem;
  }
  .lecture button {
    font-size: 0.8rem;
    padding: 0.15rem 0.6rem;
  }
  .lecture button[aria-pressed='true'] {
    background: var(--_accent);
    border-color: var(--_accent);
    color: var(--session-color-on-accent, light-dark(#fff, #0d1117));
  }
  .hand-form {
    display: flex;
    flex-wrap: wrap;
    align-items: center;
    gap: 0.4rem;
    flex-basis: 100%;
  }
  .hand-form label {
    display: flex;
    flex: 1 1 14rem;
    align-items: center;
    gap: 0.4rem;
  }
  .hand-form input {
    flex: 1;
    min-width: 0;
    font: inherit;
    padding: 0.2rem 0.45rem;
    border: 1px solid var(--_border);
    border-radius: 6px;
    background: var(--_bg);
    color: var(--_fg);
  }
  .hand-count {
    font-weight: 600;
  }
  .lecture-message {
    color: var(--_danger);
    flex-basis: 100%;
  }
  .spotlight {
    margin: 0 0 0.5rem;
    border: 2px solid var(--_accent);
    border-radius: var(--_radius);
    background: var(--_bg);
    overflow: hidden;
  }
  .spotlight header {
    display: flex;
    flex-wrap: wrap;
    align-items: center;
    gap: 0.5rem;
    padding: 0.3rem 0.6rem;
    background: color-mix(in srgb, var(--_accent) 12%, var(--_surface));
    border-bottom: 1px solid var(--_border);
  }
  .spotlight h2 {
    flex: 1 1 12rem;
    margin: 0;
    font-size: 0.9rem;
    overflow-wrap: anywhere;
  }
  .spotlight .note {
    margin: 0;
    padding: 0.5rem 0.75rem;
    color: var(--_muted);
    font-size: 0.85rem;
  }
  .spotlight pre {
    margin: 0;
    padding: 0.4rem 0;
    overflow-x: auto;
    font-family: var(--_mono);
    font-size: 0.8rem;
    line-height: 1.5;
  }
  .spotlight .line {
    display: block;
    padding-inline-end: 0.75rem;
    white-space: pre;
  }
  .spotlight .line.here {
    background: color-mix(in srgb, var(--_accent) 12%, transparent);
  }
  .spotlight .n {
    display: inline-block;
    inline-size: 3.5ch;
    margin-inline-end: 1ch;
    text-align: end;
    color: var(--_muted);
    user-select: none;
  }
  .spotlight .caret {
    border-left: 2px solid var(--_accent);
    margin-left: -1px;
    margin-right: -1px;
  }
  /* Forced colours drop the tint of the line the spotlit person is on: an outline instead. */
  @media (forced-colors: active) {
    .spotlight .line.here {
      outline: 1px solid CanvasText;
      outline-offset: -1px;
    }
  }
`
