import { css } from 'lit'

export const styles = css`
  :host {
    display: flex;
    flex-direction: column;
    font-size: 0.9rem;
  }
  .messages {
    list-style: none;
    margin: 0;
    padding: 0.5rem;
    overflow: auto;
    height: var(--session-chat-height, 16rem);
    display: flex;
    flex-direction: column;
    gap: 0.4rem;
  }
  .message {
    display: grid;
    gap: 0.1rem;
  }
  .head {
    display: flex;
    gap: 0.4rem;
    align-items: baseline;
    font-size: 0.78rem;
  }
  .author {
    font-weight: 600;
    color: var(--_c, var(--_fg));
  }
  time {
    color: var(--_muted);
  }
  .text {
    white-space: pre-wrap;
    word-break: break-word;
  }
  .text a {
    color: var(--_accent);
  }
  .delete {
    margin-inline-start: auto;
    font-size: 0.72rem;
    border: none;
    background: none;
    color: var(--_danger);
    padding: 0;
  }
  .earlier {
    align-self: center;
    font-size: 0.8rem;
  }
  form {
    display: flex;
    gap: 0.4rem;
    padding: 0.5rem;
    border-top: 1px solid var(--_border);
    background: var(--_surface);
  }
  textarea {
    flex: 1;
    font: inherit;
    resize: vertical;
    min-height: 2.2rem;
    max-height: 8rem;
    border: 1px solid var(--_border);
    border-radius: 6px;
    padding: 0.3rem 0.45rem;
    background: var(--_bg);
    color: inherit;
  }
  .notice {
    margin: 0;
    padding: 0.45rem 0.6rem;
    border-top: 1px solid var(--_border);
    color: var(--_warning);
    font-size: 0.85rem;
  }
  .empty {
    margin: auto;
  }
`
