import { css } from 'lit'

/**
 * The note shown in place of content (nothing yet, loading, not allowed) and the sentence of a
 * failure, the same in every element. Listed after an element's own styles, so these win over a
 * class they share a node with (an invitation form's `hint error`).
 */
export const statusStyles = css`
  .empty,
  .error {
    color: var(--_muted);
  }
  .error {
    color: var(--_danger);
  }
`

/**
 * A panel's list of items (invitations, snapshots, recordings), each with a row of small actions,
 * and the notes above and below it.
 */
export const listStyles = css`
  .list {
    list-style: none;
    margin: 0.6rem 0 0;
    padding: 0;
    display: grid;
    gap: 0.3rem;
  }
  .actions {
    display: flex;
    gap: 0.3rem;
    flex-wrap: wrap;
    align-items: center;
  }
  .actions button {
    font-size: 0.8rem;
    padding: 0.1rem 0.5rem;
  }
  .empty,
  .error {
    margin: 0.6rem 0 0;
  }
`
