import { css } from 'lit'

export const styles = css`
  /* One line where it fits; in a narrow column the addresses keep their width and the rest wraps. */
  .emails {
    flex: 1 1 14rem;
    min-width: 0;
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
  .invitation.item {
    row-gap: 0.4rem;
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
