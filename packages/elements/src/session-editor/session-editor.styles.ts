import { css } from 'lit'

export const styles = css`
  :host {
    display: flex;
    flex-direction: column;
    height: var(--session-editor-height, 20rem);
    min-height: 8rem;
    overflow: hidden;
  }
  .toolbar {
    padding-block: 0.3rem;
  }
  .file {
    font-family: var(--_mono);
    font-weight: 600;
  }
  .indicator {
    padding: 0.05rem 0.5rem;
    border-radius: 999px;
    border: 1px solid currentColor;
  }
  .spacer {
    flex: 1;
  }
  .run-button,
  .help-button {
    border-radius: 999px;
    padding: 0.1rem 0.7rem;
    font-size: 0.8rem;
  }
  .help-button {
    background: none;
  }
  .help {
    padding: 0.5rem 0.75rem;
    border-bottom: 1px solid var(--_border);
    font-size: 0.85rem;
    background: var(--_bg);
  }
  .help p {
    margin: 0.25rem 0;
  }
  .help ul {
    margin: 0.25rem 0;
    padding: 0;
    list-style: none;
    columns: 2 14rem;
  }
  .help li.no {
    color: var(--_muted);
  }
  .tip {
    color: var(--_muted);
  }
  .banner {
    margin: 0;
    padding: 0.4rem 0.75rem;
    font-size: 0.85rem;
    border-bottom: 1px solid var(--_border);
  }
  .banner.warn {
    color: var(--_warning);
  }
  .banner.error {
    color: var(--_danger);
  }
  .unsent {
    padding: 0.5rem 0.75rem;
    border-bottom: 1px solid var(--_warning);
    font-size: 0.85rem;
    max-height: 40%;
    overflow: auto;
  }
  .unsent h3 {
    margin: 0 0 0.25rem;
    font-size: 0.9rem;
  }
  .unsent pre {
    font-family: var(--_mono);
    background: var(--_surface);
    padding: 0.4rem;
    border-radius: 4px;
    white-space: pre-wrap;
    max-height: 8rem;
    overflow: auto;
  }
  .unsent-head {
    display: flex;
    justify-content: space-between;
    align-items: center;
  }
  .editor {
    position: relative;
    flex: 1;
    min-height: 0;
  }
  .cm-host {
    height: 100%;
  }
  .placeholder {
    position: absolute;
    inset: 0;
    margin: 0;
    display: grid;
    place-items: center;
    color: var(--_muted);
  }
  .follow {
    display: flex;
    flex-wrap: wrap;
    align-items: center;
    gap: 0.25rem 0.6rem;
    padding: 0.3rem 0.75rem;
    font-size: 0.85rem;
    border-bottom: 1px solid var(--_border);
    background: color-mix(in srgb, var(--_accent) 10%, var(--_bg));
  }
  .follow-text {
    flex: 1 1 12rem;
    overflow-wrap: anywhere;
  }
  .follow button {
    font-size: 0.8rem;
    padding: 0.1rem 0.55rem;
  }
`
