import { ContextRoot } from '@lit/context'
import { PARTICIPANT_COLORS } from '@session-kit/core'
import { css, LitElement, unsafeCSS } from 'lit'

export const VERSION = '0.1.0'

// Elements may be defined in any order (a room after its editors): a context root replays
// requests made before their provider existed.
const ROOT_KEY = Symbol.for('session-kit.context-root')
const g = globalThis as unknown as Record<symbol, unknown>
if (typeof document !== 'undefined' && !g[ROOT_KEY]) {
  const root = new ContextRoot()
  root.attach(document.documentElement)
  g[ROOT_KEY] = root
}

const VERSIONS_KEY = Symbol.for('session-kit.versions')
const versions = (g[VERSIONS_KEY] ??= new Map<string, string>()) as Map<string, string>

/**
 * The base of every Session Kit element: shared tokens and an idempotent `define()`.
 */
export class SessionElement extends LitElement {
  /**
   * @internal The elements this one renders in its shadow root, by tag: registered with it, so
   * defining an element is all a page does to use it.
   */
  static dependencies: Record<string, typeof SessionElement> = {}

  /**
   * Register this class under a tag, and the elements it renders under theirs. Does nothing if the
   * tag is already registered (two copies of the bundle on a page do not throw) and warns when the
   * copies' versions differ.
   */
  static define(tag: string) {
    for (const [name, element] of Object.entries(this.dependencies)) element.define(name)
    const existing = customElements.get(tag)
    if (existing) {
      const other = versions.get(tag)
      if (other && other !== VERSION) console.warn(`<${tag}> is already defined by Session Kit ${other}; this copy (${VERSION}) is not used.`)
      return
    }
    customElements.define(tag, this)
    versions.set(tag, VERSION)
  }

  static baseStyles = css`
    :host {
      --_fg: var(--session-color-text, light-dark(#1f2328, #e6edf3));
      --_muted: var(--session-color-muted, light-dark(#59636e, #9198a1));
      --_bg: var(--session-color-background, light-dark(#ffffff, #0d1117));
      --_surface: var(--session-color-surface, light-dark(#f6f8fa, #161b22));
      --_border: var(--session-color-border, light-dark(#d1d9e0, #3d444d));
      --_accent: var(--session-color-accent, light-dark(#6d28d9, #a78bfa));
      --_danger: var(--session-color-danger, light-dark(#b42318, #f97066));
      --_warning: var(--session-color-warning, light-dark(#8a5300, #f5b74c));
      --_ok: var(--session-color-success, light-dark(#1a7f37, #3fb950));
      --_radius: var(--session-radius, 8px);
      --_font: var(--session-font-family, system-ui, -apple-system, 'Segoe UI', sans-serif);
      --_mono: var(--session-font-mono, ui-monospace, 'SFMono-Regular', Menlo, Consolas, monospace);
      font-family: var(--_font);
      color: var(--_fg);
    }
    /* No color-scheme of its own: an element is light or dark as its page is (the page's
       color-scheme, inherited), so a light-only course page never gets dark elements with
       light text on its light background when the device is in dark mode. */
    :host([theme='light']) {
      color-scheme: light;
    }
    :host([theme='dark']) {
      color-scheme: dark;
    }
    :host([hidden]) {
      display: none !important;
    }
    button {
      font: inherit;
      cursor: pointer;
      border: 1px solid var(--_border);
      background: var(--_bg);
      color: inherit;
      border-radius: 6px;
      padding: 0.2rem 0.7rem;
    }
    button.primary {
      background: var(--_accent);
      border-color: var(--_accent);
      color: var(--session-color-on-accent, light-dark(#fff, #0d1117));
      font-weight: 600;
    }
    button.danger {
      border-color: var(--_danger);
      color: var(--_danger);
    }
    button[disabled] {
      opacity: 0.55;
      cursor: not-allowed;
    }
    :focus-visible {
      outline: 2px solid var(--_accent);
      outline-offset: 2px;
    }
    /* More contrast when asked for: muted text as strong as the text, borders nearly so. */
    @media (prefers-contrast: more) {
      :host {
        --_muted: var(--_fg);
        --_border: color-mix(in srgb, var(--_fg) 75%, var(--_bg));
      }
    }
    /* Forced colours drop a pressed toggle's fill: the system's selected colours instead (over any
       element's own colours for it). */
    @media (forced-colors: active) {
      button[aria-pressed='true'] {
        forced-color-adjust: none;
        background: Highlight !important;
        color: HighlightText !important;
      }
    }
    .visually-hidden {
      position: absolute;
      width: 1px;
      height: 1px;
      padding: 0;
      margin: -1px;
      overflow: hidden;
      clip: rect(0 0 0 0);
      white-space: nowrap;
      border: 0;
    }
  `
}

/** `.c0` … `.c11` set `--_c` to a participant colour: by class, never inline styles (strict CSP). */
export const participantColorClasses = unsafeCSS(PARTICIPANT_COLORS.map((c, i) => `.c${i} { --_c: ${c}; }`).join('\n'))

/** Which of the `.cN` classes a participant's colour is. */
export const colorIndex = (color: string) => Math.max(0, PARTICIPANT_COLORS.indexOf(color))

/**
 * The colour of a state word, the same in every element: `tone` is muted (waiting, neutral), with
 * `ok`, `warning` (blocked, not allowed) or `danger` (failed, offline) on top.
 */
export const toneStyles = css`
  .tone {
    color: var(--_muted);
  }
  .tone.ok {
    color: var(--_ok);
  }
  .tone.warning {
    color: var(--_warning);
  }
  .tone.danger {
    color: var(--_danger);
  }
`

/** An element drawn as one box (the editor, runner, chat, player): its border, corners and ground. */
export const boxStyles = css`
  :host {
    border: 1px solid var(--_border);
    border-radius: var(--_radius);
    background: var(--_bg);
  }
`

/** A bar across the top of a box (the editor's and runner's toolbars, a preview's head). */
export const toolbarStyles = css`
  .toolbar {
    display: flex;
    flex-wrap: wrap;
    gap: 0.5rem;
    align-items: center;
    padding: 0.35rem 0.5rem;
    background: var(--_surface);
    border-bottom: 1px solid var(--_border);
    font-size: 0.8rem;
  }
`
