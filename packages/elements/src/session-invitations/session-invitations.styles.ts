import { css } from 'lit'

export const styles = css`
  :host {
    display: block;
    font-size: 0.9rem;
  }
  /* One line where it fits; in a narrow column the addresses keep their width and the rest wraps. */
  form {
    display: flex;
    flex-wrap: wrap;
    gap: 0.4rem 0.6rem;
    align-items: end;
    padding: 0.6rem;
    border: 1px solid var(--_border);
    border-radius: var(--_radius);
    background: var(--_surface);
  }
  .emails {
    flex: 1 1 14rem;
    min-width: 0;
  }
  label {
    display: grid;
    gap: 0.2rem;
    font-size: 0.8rem;
    color: var(--_muted);
  }
  textarea,
  select,
  input {
    font: inherit;
    color: var(--_fg);
    background: var(--_bg);
    border: 1px solid var(--_border);
    border-radius: 6px;
    padding: 0.3rem 0.45rem;
  }
  textarea {
    min-height: 2.2rem;
    resize: vertical;
  }
  input[type='number'] {
    width: 5.5rem;
  }
  .hint {
    flex-basis: 100%;
    margin: 0;
    font-size: 0.78rem;
    color: var(--_muted);
  }
  .results {
    list-style: none;
    margin: 0.6rem 0 0;
    padding: 0;
    display: grid;
    gap: 0.3rem;
  }
  .results li.bad {
    color: var(--_danger);
  }
  .invitation {
    display: flex;
    flex-wrap: wrap;
    gap: 0.4rem 0.6rem;
    align-items: center;
    padding: 0.4rem 0.5rem;
    border: 1px solid var(--_border);
    border-radius: 6px;
  }
  .who {
    flex: 1;
    min-width: 12rem;
    display: grid;
  }
  .meta {
    color: var(--_muted);
    font-size: 0.78rem;
  }
  .badge {
    font-size: 0.72rem;
    padding: 0.05rem 0.5rem;
    border-radius: 999px;
    border: 1px solid currentColor;
    text-transform: capitalize;
  }
  .badge.pending {
    color: var(--_accent);
  }
  .badge.accepted {
    color: var(--_ok);
  }
  .badge.declined,
  .badge.expired,
  .badge.revoked {
    color: var(--_muted);
  }
`
