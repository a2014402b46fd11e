import { css } from 'lit'

export const styles = css`
  :host {
    display: block;
    font-size: 0.9rem;
  }
`
