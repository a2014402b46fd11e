import { css } from 'lit'

export const styles = css`
  :host {
    display: block;
    font-size: 0.9rem;
  }
  .room-actions,
  .actions {
    display: flex;
    flex-wrap: wrap;
    gap: 0.35rem;
    align-items: center;
  }
  .room-actions {
    margin-bottom: 0.5rem;
  }
  button,
  select {
    font: inherit;
    font-size: 0.8rem;
    padding: 0.15rem 0.5rem;
  }
  select {
    border: 1px solid var(--_border);
    background: var(--_bg);
    color: inherit;
    border-radius: 6px;
  }
  .help {
    margin: 0 0 0.5rem;
    padding: 0;
    list-style: none;
    display: grid;
    gap: 0.15rem;
    font-size: 0.78rem;
    color: var(--_muted);
  }
  .help strong {
    color: var(--_fg);
    font-weight: 600;
  }
  .confirm {
    display: inline-flex;
    gap: 0.35rem;
    align-items: center;
  }
`
