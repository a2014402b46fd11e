import { css } from 'lit'

export const styles = css`
  :host {
    display: block;
    overflow: hidden;
  }
  .toolbar {
    font-size: 0.85rem;
  }
  .output {
    margin: 0;
    padding: 0.4rem 0.6rem;
    list-style: none;
    font-family: var(--_mono);
    font-size: 0.85rem;
    max-height: var(--session-runner-height, 12rem);
    min-height: 2.5rem;
    overflow: auto;
  }
  .output .line {
    white-space: pre-wrap;
    word-break: break-word;
    border-bottom: 1px solid color-mix(in srgb, var(--_border) 40%, transparent);
    padding: 0.1rem 0;
  }
  .output .error {
    color: var(--_danger);
  }
  .output .warn {
    color: var(--_warning);
  }
  .empty {
    color: var(--_muted);
    font-family: var(--_font);
  }
  .more {
    display: flex;
    flex-wrap: wrap;
    gap: 0.3rem 0.75rem;
    align-items: center;
    padding: 0.3rem 0;
    border-bottom: 1px solid color-mix(in srgb, var(--_border) 40%, transparent);
    color: var(--_muted);
    font-family: var(--_font);
  }
  .more button {
    font-size: 0.8rem;
    color: var(--_fg);
  }
  .preview-host iframe.preview {
    display: block;
    width: 100%;
    height: var(--session-runner-preview-height, 14rem);
    border: 0;
    border-top: 1px solid var(--_border);
    background: #fff;
  }
  .preview-host iframe.hidden-frame {
    display: none;
  }
  .activity {
    margin: 0;
    padding: 0.3rem 0.6rem;
    border-top: 1px solid var(--_border);
    font-size: 0.8rem;
    color: var(--_muted);
    list-style: none;
  }
`
