import { css } from 'lit'

export const styles = css`
  :host {
    display: block;
    overflow: hidden;
    font-size: 0.9rem;
  }
  header {
    padding: 0.4rem 0.6rem;
    background: var(--_surface);
    border-bottom: 1px solid var(--_border);
  }
  header h2 {
    margin: 0;
    font-size: 1rem;
  }
  .sub {
    color: var(--_muted);
    font-size: 0.8rem;
  }
  .files {
    display: flex;
    gap: 0.25rem;
    padding: 0.3rem 0.5rem 0;
    flex-wrap: wrap;
  }
  .files button[aria-pressed='true'] {
    border-color: var(--_accent);
    font-weight: 600;
  }
  .editor {
    height: var(--session-player-height, 20rem);
    border-top: 1px solid var(--_border);
    margin-top: 0.3rem;
  }
  .controls {
    display: flex;
    gap: 0.6rem;
    align-items: center;
    padding: 0.4rem 0.6rem;
    border-top: 1px solid var(--_border);
    flex-wrap: wrap;
  }
  .time {
    font-variant-numeric: tabular-nums;
    color: var(--_muted);
    min-width: 7rem;
  }
  .track {
    flex: 1;
    min-width: 10rem;
    display: grid;
  }
  input[type='range'] {
    width: 100%;
    accent-color: var(--_accent);
  }
  svg {
    width: 100%;
    height: 10px;
    display: block;
  }
  .mark-run {
    fill: var(--_ok);
  }
  .mark-run.failed {
    fill: var(--_danger);
  }
  .mark-chat {
    fill: var(--_accent);
  }
  .mark-lecture {
    fill: var(--_warning);
  }
  select {
    font: inherit;
    border: 1px solid var(--_border);
    border-radius: 6px;
    background: var(--_bg);
    color: inherit;
  }
  .author {
    padding: 0 0.6rem 0.4rem;
    color: var(--_muted);
    font-size: 0.8rem;
    min-height: 1.2em;
  }
  details {
    padding: 0 0.6rem 0.5rem;
    font-size: 0.85rem;
  }
  .moments {
    list-style: none;
    margin: 0.3rem 0 0;
    padding: 0;
    max-height: 10rem;
    overflow: auto;
  }
  .moments button {
    border: none;
    background: none;
    padding: 0.1rem 0;
    text-align: start;
  }
  .status {
    padding: 1rem;
    color: var(--_muted);
  }
  .status.error {
    color: var(--_danger);
  }
  /* In forced colours the timeline's marks are drawn in system colours (a failed run hollow: told by more than red), keeping their contrast
     with the system's background. */
  @media (forced-colors: active) {
    svg {
      forced-color-adjust: none;
    }
    .mark-run,
    .mark-lecture {
      fill: CanvasText;
    }
    .mark-run.failed {
      fill: Canvas;
      stroke: CanvasText;
      stroke-width: 2;
      vector-effect: non-scaling-stroke;
    }
    .mark-chat {
      fill: LinkText;
    }
  }
`
