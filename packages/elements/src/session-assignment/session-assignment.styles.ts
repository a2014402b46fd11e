import { css } from 'lit'

export const styles = css`
  :host {
    display: grid;
    gap: 0.75rem;
    font-size: 0.95rem;
    line-height: 1.45;
    min-width: 0;
  }
  h2,
  h3 {
    margin: 0;
    line-height: 1.25;
  }
  h2 {
    font-size: 1.3rem;
  }
  h3 {
    font-size: 1rem;
  }
  p {
    margin: 0;
  }
  .note {
    color: var(--_muted);
  }
  .header {
    display: grid;
    gap: 0.2rem;
  }
  .instructions-box,
  .result,
  .submit,
  .updates,
  .failure,
  .opening {
    border: 1px solid var(--_border);
    border-radius: var(--_radius);
    background: var(--_surface);
    padding: 0.6rem 0.8rem;
    min-width: 0;
  }
  .instructions-box > summary {
    cursor: pointer;
    font-weight: 600;
  }
  .instructions {
    overflow-wrap: anywhere;
  }
  .instructions > :first-child {
    margin-top: 0.5rem;
  }
  .instructions :is(p, ul, ol, pre, blockquote, h3, h4, h5, h6) {
    margin: 0.5rem 0;
  }
  .instructions pre,
  .diff {
    font-family: var(--_mono);
    font-size: 0.85rem;
    background: var(--_bg);
    border: 1px solid var(--_border);
    border-radius: 6px;
    padding: 0.5rem 0.6rem;
    overflow-x: auto;
  }
  .instructions :not(pre) > code {
    font-family: var(--_mono);
    font-size: 0.88em;
    background: var(--_bg);
    border: 1px solid var(--_border);
    border-radius: 4px;
    padding: 0 0.25em;
  }
  .instructions blockquote {
    border-left: 3px solid var(--_border);
    padding-left: 0.75rem;
    color: var(--_muted);
  }
  a {
    color: var(--_accent);
  }
  .files {
    display: flex;
    flex-wrap: wrap;
    gap: 0.3rem;
  }
  .files button[aria-pressed='true'] {
    border-color: var(--_accent);
    font-weight: 600;
  }
  session-runner {
    margin-top: 0.5rem;
  }
  .result,
  .submit {
    display: grid;
    gap: 0.35rem;
  }
  .result.ok {
    border-color: var(--_ok);
  }
  .failed-tests {
    margin: 0;
    padding-left: 1.2rem;
  }
  .submit {
    grid-template-columns: 1fr auto;
    align-items: center;
  }
  .submit > :not(button) {
    grid-column: 1;
  }
  .submit > button {
    grid-column: 2;
    grid-row: 1;
    padding: 0.4rem 1.2rem;
  }
  .submitted {
    display: flex;
    flex-wrap: wrap;
    gap: 0.2rem 0.6rem;
  }
  .confirm {
    display: flex;
    flex-wrap: wrap;
    gap: 0.4rem;
    align-items: center;
  }
  .error {
    color: var(--_danger);
  }
  .updates ul {
    list-style: none;
    padding: 0;
    margin: 0.4rem 0 0;
    display: grid;
    gap: 0.6rem;
  }
  .update {
    display: grid;
    gap: 0.4rem;
  }
  .diff {
    margin: 0;
    max-height: 16rem;
  }
  .diff .line {
    display: block;
    white-space: pre;
  }
  .diff .sign {
    display: inline-block;
    width: 1.2em;
    color: var(--_muted);
  }
  .diff .add {
    background: color-mix(in srgb, var(--_ok) 16%, transparent);
  }
  .diff .del {
    background: color-mix(in srgb, var(--_danger) 16%, transparent);
  }
  .diff .gap {
    color: var(--_muted);
  }
  .failure {
    border-color: var(--_danger);
    display: grid;
    gap: 0.4rem;
    justify-items: start;
  }
  .failure.closed {
    border-color: var(--_warning);
  }
  .opening p {
    display: flex;
    gap: 0.5rem;
    align-items: center;
    color: var(--_muted);
  }
  .spinner {
    inline-size: 1rem;
    block-size: 1rem;
    border: 2px solid var(--_border);
    border-top-color: var(--_accent);
    border-radius: 50%;
    animation: spin 0.8s linear infinite;
  }
  @keyframes spin {
    to {
      transform: rotate(360deg);
    }
  }
  @media (prefers-reduced-motion: reduce) {
    .spinner {
      animation: none;
    }
  }
  @media (max-width: 30rem) {
    .submit {
      grid-template-columns: 1fr;
    }
    .submit > button {
      grid-column: 1;
      grid-row: auto;
      justify-self: start;
    }
  }
  /* Forced colours drop the tint of a changed line (its sign stays); the spinner's arc is recoloured
     like its ring. */
  @media (forced-colors: active) {
    .diff .add {
      forced-color-adjust: none;
      background: Mark;
      color: MarkText;
    }
    .diff .del {
      text-decoration: line-through;
    }
    .spinner {
      forced-color-adjust: none;
      border-color: GrayText;
      border-top-color: Highlight;
    }
  }
`
