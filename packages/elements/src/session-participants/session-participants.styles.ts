import { css } from 'lit'

export const styles = css`
  :host {
    display: block;
    font-size: 0.9rem;
  }
  /* More contrast when asked for: muted text as strong as the text, borders nearly so. */
  @media (prefers-contrast: more) {
    :host {
      --_muted: var(--_fg);
      --_border: color-mix(in srgb, var(--_fg) 75%, var(--_bg));
    }
  }
`
