import { css } from 'lit'

export const styles = css`
  :host {
    display: grid;
    gap: 0.75rem;
    min-width: 0;
  }
  h2,
  h3,
  p {
    margin: 0;
  }
  h2 {
    font-size: 1.2rem;
  }
  .note {
    color: var(--_muted);
  }
  .error {
    color: var(--_danger);
  }
  .head {
    display: grid;
    gap: 0.2rem;
  }
  .toolbar,
  .message {
    display: flex;
    flex-wrap: wrap;
    gap: 0.5rem 0.75rem;
    align-items: end;
  }
  .message {
    padding: 0.6rem;
    border: 1px solid var(--_border);
    border-radius: var(--_radius);
    background: var(--_surface);
  }
  .message .grow {
    flex: 1 1 14rem;
  }
  .message textarea {
    width: 100%;
    box-sizing: border-box;
    resize: vertical;
    min-height: 2.1rem;
  }
  .message .sent {
    flex-basis: 100%;
  }
  .toolbar label {
    flex: 1 1 9rem;
    max-width: 16rem;
  }
  .toolbar :is(select, input) {
    width: 100%;
    box-sizing: border-box;
  }
  .toolbar :is(.export, .roster) {
    display: flex;
    flex-wrap: wrap;
    gap: 0.5rem;
    align-items: center;
  }
  .toolbar .export {
    margin-left: auto;
  }
  .toolbar .export label.check {
    flex: none;
    display: inline-flex;
    gap: 0.3rem;
    align-items: center;
  }
  .toolbar .export input {
    width: auto;
  }
  .grid {
    list-style: none;
    margin: 0;
    padding: 0;
    display: grid;
    grid-template-columns: repeat(auto-fill, minmax(min(100%, var(--session-classroom-tile-width, 17rem)), 1fr));
    gap: 0.75rem;
  }
  .tile {
    display: grid;
    grid-template-rows: auto auto auto auto 1fr auto;
    gap: 0.35rem;
    padding: 0.6rem;
    border: 1px solid var(--_border);
    border-radius: var(--_radius);
    background: var(--_bg);
    min-width: 0;
    content-visibility: auto;
    contain-intrinsic-size: auto 17rem;
  }
  .tile:focus-visible {
    outline: 2px solid var(--_accent);
    outline-offset: 2px;
  }
  .tile.hand {
    border-color: var(--_warning);
    box-shadow: inset 4px 0 0 var(--_warning);
  }
  .tile-head {
    display: flex;
    align-items: center;
    gap: 0.4rem;
    min-width: 0;
  }
  .name {
    font-size: 0.95rem;
    flex: 1;
    min-width: 0;
    overflow: hidden;
    text-overflow: ellipsis;
    white-space: nowrap;
  }
  .dot {
    inline-size: 0.55rem;
    block-size: 0.55rem;
    border-radius: 50%;
    background: var(--_muted);
    flex: none;
    opacity: 0.6;
  }
  .dot.on {
    background: var(--_ok);
    opacity: 1;
  }
  .badge {
    font-size: 0.75rem;
    font-weight: 600;
    padding: 0 0.45rem;
    border-radius: 999px;
    border: 1px solid var(--_warning);
    color: var(--_warning);
    white-space: nowrap;
  }
  .facts {
    display: flex;
    flex-wrap: wrap;
    gap: 0.1rem 0.6rem;
    font-size: 0.8rem;
    color: var(--_muted);
  }
  .not-opened {
    display: grid;
    gap: 0.4rem;
  }
  .not-opened h3 {
    font-size: 1rem;
  }
  .not-opened ul {
    list-style: none;
    margin: 0;
    padding: 0;
    display: grid;
    gap: 0.25rem;
  }
  .not-opened-learner {
    display: flex;
    flex-wrap: wrap;
    gap: 0.1rem 0.75rem;
    align-items: baseline;
    padding: 0.35rem 0.6rem;
    border: 1px dashed var(--_border);
    border-radius: var(--_radius);
    font-size: 0.9rem;
  }
  .not-opened-learner .name {
    font-weight: 600;
  }
  .not-opened-learner a {
    color: var(--_accent);
    overflow-wrap: anywhere;
  }
  .question {
    font-size: 0.85rem;
    font-style: italic;
    overflow-wrap: anywhere;
  }
  .needs {
    font-size: 0.8rem;
  }
  .code {
    position: relative;
    min-width: 0;
    border: 1px solid var(--_border);
    border-radius: 6px;
    background: var(--_surface);
    min-height: 9.5rem;
  }
  .code pre {
    margin: 0;
    padding: 0.35rem 0.4rem 1.3rem;
    font-family: var(--_mono);
    font-size: 0.72rem;
    line-height: 1.35;
    overflow: hidden;
    white-space: pre;
  }
  .code .line {
    display: block;
    overflow: hidden;
    text-overflow: ellipsis;
  }
  .code .line.edited {
    background: color-mix(in srgb, var(--_accent) 14%, transparent);
  }
  .code .n {
    display: inline-block;
    min-width: 1.8em;
    margin-right: 0.5em;
    text-align: right;
    color: var(--_muted);
    user-select: none;
  }
  .code.paused pre {
    opacity: 0.7;
  }
  .code > .note {
    padding: 0.5rem;
    font-size: 0.8rem;
  }
  .file {
    position: absolute;
    right: 0.4rem;
    bottom: 0.2rem;
    font-size: 0.7rem;
    color: var(--_muted);
  }
  .live-tag {
    color: var(--_ok);
    font-weight: 600;
  }
  .tile-actions {
    display: flex;
    gap: 0.4rem;
  }
  dialog {
    width: min(64rem, calc(100vw - 2rem));
    max-height: calc(100vh - 2rem);
    box-sizing: border-box;
    padding: 0.8rem;
    border: 1px solid var(--_border);
    border-radius: var(--_radius);
    background: var(--_bg);
    color: var(--_fg);
  }
  dialog::backdrop {
    background: rgb(0 0 0 / 0.45);
  }
  .dialog-head {
    display: flex;
    justify-content: space-between;
    align-items: center;
    gap: 0.5rem;
    margin-bottom: 0.5rem;
  }
  dialog session-runner,
  dialog session-chat {
    margin-top: 0.5rem;
  }
  dialog session-chat {
    height: 14rem;
  }
  @media (max-width: 30rem) {
    .toolbar label {
      max-width: none;
    }
  }
  /* Forced colours drop fills and shadows: a raised hand keeps its wide edge as a border, the online
     dot a fill, the edited line an outline. */
  @media (forced-colors: active) {
    .tile.hand {
      border-inline-start-width: 5px;
    }
    .dot {
      forced-color-adjust: none;
      box-sizing: border-box;
      border: 1px solid CanvasText;
      background: Canvas;
      opacity: 1;
    }
    .dot.on {
      background: CanvasText;
    }
    .code .line.edited {
      outline: 1px solid CanvasText;
      outline-offset: -1px;
    }
  }
`
