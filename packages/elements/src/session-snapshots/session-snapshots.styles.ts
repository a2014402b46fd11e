import { css } from 'lit'

export const styles = css`
  /* Title, description and Save on one line where they fit, and below each other where not. */
  form label {
    flex: 1 1 9rem;
    min-width: 0;
  }
  form label:has([name='description']) {
    flex: 2 1 14rem;
  }
  input {
    min-width: 0;
  }
  .snapshot.open {
    border-color: var(--_accent);
  }
  /* Forced colours give every border one colour: the snapshot being previewed keeps a wider one. */
  @media (forced-colors: active) {
    .snapshot.open {
      border-width: 3px;
    }
  }
  .meta,
  .desc {
    color: var(--_muted);
    font-size: 0.8rem;
  }
  .preview {
    margin-top: 0.6rem;
    border: 1px solid var(--_border);
    border-radius: var(--_radius);
    overflow: hidden;
  }
  .preview-head {
    gap: 0.6rem;
  }
  .diff-labels {
    display: grid;
    grid-template-columns: 1fr 1fr;
    font-size: 0.75rem;
    color: var(--_muted);
    padding: 0.2rem 0.5rem;
  }
  .diff {
    height: var(--session-snapshots-preview-height, 18rem);
    overflow: auto;
    font-family: var(--_mono);
    font-size: 0.85rem;
  }
  .notice {
    margin: 0.6rem 0 0;
    padding: 0.35rem 0.5rem;
    border: 1px solid var(--_border);
    border-inline-start: 4px solid var(--_accent);
    border-radius: 6px;
    font-size: 0.85rem;
  }
  .notice button {
    font-size: 0.8rem;
    padding: 0.1rem 0.5rem;
  }
`
