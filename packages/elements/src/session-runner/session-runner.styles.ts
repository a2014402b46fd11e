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
  .toolbar progress {
    width: 8rem;
    accent-color: var(--_accent);
  }
  /* An error's line number, a button to that line in the editor: it reads as part of the line. */
  .output .goto {
    padding: 0;
    border: 0;
    background: none;
    font: inherit;
    color: inherit;
    text-decoration: underline;
    cursor: pointer;
  }
  /* The program's question and the field it is answered in, where the console ends. */
  .input {
    display: flex;
    flex-wrap: wrap;
    gap: 0.3rem 0.5rem;
    align-items: center;
    padding: 0.2rem 0;
  }
  .input .prompt {
    white-space: pre-wrap;
  }
  .input input {
    flex: 1;
    min-width: 8rem;
    font: inherit;
    color: var(--_fg);
    background: var(--_bg);
    border: 1px solid var(--_border);
    border-radius: 4px;
    padding: 0.1rem 0.3rem;
  }
  .input button {
    font-family: var(--_font);
    font-size: 0.8rem;
  }
  .tests {
    margin: 0;
    padding: 0.3rem 0.6rem;
    list-style: none;
    border-top: 1px solid var(--_border);
    font-size: 0.85rem;
  }
  .test {
    display: flex;
    flex-wrap: wrap;
    gap: 0.1rem 0.6rem;
    align-items: baseline;
    padding: 0.2rem 0;
    border-bottom: 1px solid color-mix(in srgb, var(--_border) 40%, transparent);
  }
  .test .outcome {
    font-weight: 600;
    min-width: 4.5rem;
  }
  .test .name {
    /* At least 10rem before the time and the place move to the next line: no name a word a line. */
    flex: 1 1 10rem;
    min-width: 0;
    overflow-wrap: anywhere;
  }
  .test .time {
    color: var(--_muted);
    font-size: 0.8rem;
  }
  .test .message {
    flex-basis: 100%;
    font-family: var(--_mono);
    white-space: pre-wrap;
    word-break: break-word;
  }
  .test .where {
    font-size: 0.8rem;
  }
  .verified {
    border-top: 1px solid var(--_border);
    padding: 0.3rem 0.6rem;
    font-size: 0.85rem;
  }
  .verified .verdict {
    margin: 0;
    font-weight: 600;
  }
  .verified .tests {
    border-top: 0;
    padding: 0.2rem 0 0;
  }
  .server-output pre {
    margin: 0.2rem 0 0;
    font-family: var(--_mono);
    white-space: pre-wrap;
    word-break: break-word;
    max-height: var(--session-runner-height, 12rem);
    overflow: auto;
  }
  .server-output .error {
    color: var(--_danger);
  }
  .verified .reason,
  .verified .withheld {
    margin: 0.15rem 0 0;
  }
  .verified .withheld,
  .hidden-tag {
    color: var(--_muted);
  }
  .verified-mark {
    font-weight: 600;
  }
`
