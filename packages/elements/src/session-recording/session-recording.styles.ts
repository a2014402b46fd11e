import { css } from 'lit'

export const styles = css`
  :host {
    display: block;
    font-size: 0.9rem;
  }
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
  label {
    display: grid;
    gap: 0.2rem;
    font-size: 0.8rem;
    color: var(--_muted);
  }
  label.inline {
    display: flex;
    align-items: center;
    gap: 0.3rem;
    color: var(--_fg);
  }
  input[type='text'] {
    font: inherit;
    color: var(--_fg);
    background: var(--_bg);
    border: 1px solid var(--_border);
    border-radius: 6px;
    padding: 0.3rem 0.45rem;
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
  .recording {
    display: flex;
    flex-wrap: wrap;
    gap: 0.3rem 0.6rem;
    align-items: center;
    padding: 0.4rem 0.5rem;
    border: 1px solid var(--_border);
    border-radius: 6px;
  }
  .what {
    flex: 1;
    min-width: 12rem;
    display: grid;
  }
  .title {
    font-weight: 600;
  }
  .meta {
    color: var(--_muted);
    font-size: 0.8rem;
  }
  session-player {
    margin-top: 0.6rem;
  }
`
