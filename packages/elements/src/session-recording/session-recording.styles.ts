import { css } from 'lit'

export const styles = css`
  .controls,
  form {
    display: flex;
    flex-wrap: wrap;
    gap: 0.5rem;
    align-items: end;
    padding: 0.6rem;
    border: 1px solid var(--_border);
    border-radius: var(--_radius);
    background: var(--_surface);
  }
  label.inline {
    display: flex;
    align-items: center;
    gap: 0.3rem;
    color: var(--_fg);
  }
  .live {
    display: flex;
    align-items: center;
    gap: 0.4rem;
    font-weight: 600;
    margin-inline-end: auto;
  }
  .dot {
    inline-size: 0.65rem;
    block-size: 0.65rem;
    border-radius: 50%;
    background: var(--_danger);
  }
  .paused .dot {
    background: var(--_warning);
  }
  .counter {
    font-variant-numeric: tabular-nums;
  }
  .meta {
    color: var(--_muted);
    font-size: 0.8rem;
  }
  session-player {
    margin-top: 0.6rem;
  }
  /* Forced colours drop the recording dot's fill: the text colour instead. */
  @media (forced-colors: active) {
    .dot {
      forced-color-adjust: none;
      background: CanvasText;
    }
  }
`
