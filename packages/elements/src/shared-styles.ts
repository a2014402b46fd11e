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
  /* One entry: what it is, then its actions, wrapping in a narrow column. */
  .item {
    display: flex;
    flex-wrap: wrap;
    gap: 0.3rem 0.6rem;
    align-items: center;
    padding: 0.4rem 0.5rem;
    border: 1px solid var(--_border);
    border-radius: 6px;
  }
  /* The entry's own words: a title over a line of details. */
  .item .what {
    flex: 1;
    min-width: 12rem;
    display: grid;
  }
  .item .title {
    font-weight: 600;
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

/**
 * A panel with a form on top (invitations, snapshots, recording): the form's box, its labels above
 * their fields, and the fields. Listed before an element's own styles, which refine it.
 */
export const formStyles = css`
  :host {
    display: block;
    font-size: 0.9rem;
  }
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
  label {
    display: grid;
    gap: 0.2rem;
    font-size: 0.8rem;
    color: var(--_muted);
  }
  textarea,
  select,
  input:not([type='checkbox']) {
    font: inherit;
    color: var(--_fg);
    background: var(--_bg);
    border: 1px solid var(--_border);
    border-radius: 6px;
    padding: 0.3rem 0.45rem;
  }
`
