import { css } from 'lit'

export const styles = css`
  :host {
    display: block;
    font-size: 0.9rem;
  }
  .bar {
    display: flex;
    flex-wrap: wrap;
    gap: 0.5rem 1rem;
    align-items: center;
    margin-bottom: 0.6rem;
  }
  fieldset {
    border: 1px solid var(--_border);
    border-radius: 6px;
    display: inline-flex;
    flex-wrap: wrap;
    min-inline-size: 0;
    gap: 0;
    padding: 0;
    margin: 0;
    overflow: hidden;
  }
  fieldset label {
    padding: 0.2rem 0.6rem;
    cursor: pointer;
  }
  fieldset label:has(input:checked) {
    background: var(--_accent);
    color: var(--session-color-on-accent, light-dark(#fff, #0d1117));
  }
  fieldset label:has(input:focus-visible) {
    outline: 2px solid var(--_accent);
    outline-offset: -2px;
  }
  fieldset input {
    position: absolute;
    opacity: 0;
    width: 1px;
    height: 1px;
  }
  .spacer {
    flex: 1;
  }
  .exports {
    display: flex;
    gap: 0.5rem;
  }
  .cards {
    display: grid;
    grid-template-columns: repeat(auto-fill, minmax(min(9rem, 100%), 1fr));
    gap: 0.5rem;
    margin: 0 0 0.8rem;
    padding: 0;
  }
  .card {
    border: 1px solid var(--_border);
    border-radius: var(--_radius);
    background: var(--_surface);
    padding: 0.45rem 0.6rem;
    display: flex;
    flex-direction: column;
    min-inline-size: 0;
  }
  .card dt {
    color: var(--_muted);
    font-size: 0.78rem;
  }
  .card dd {
    margin: 0;
    font-size: 1.25rem;
    font-weight: 600;
    font-variant-numeric: tabular-nums;
  }
  .card dd small {
    display: block;
    font-size: 0.75rem;
    font-weight: 400;
    color: var(--_muted);
  }
  h3 {
    font-size: 0.95rem;
    margin: 0.9rem 0 0.4rem;
  }
  /* Wide tables scroll inside the element rather than widening it (or the page) on a phone. */
  .table-wrap {
    overflow-x: auto;
    contain: inline-size;
  }
  table {
    border-collapse: collapse;
    width: 100%;
    font-variant-numeric: tabular-nums;
  }
  th,
  td {
    text-align: left;
    padding: 0.3rem 0.5rem;
    border-bottom: 1px solid var(--_border);
    white-space: nowrap;
  }
  th.num,
  td.num {
    text-align: right;
  }
  th button {
    border: 0;
    background: none;
    padding: 0;
    font-weight: 600;
    color: inherit;
  }
  th[aria-sort] button::after {
    content: ' ▲';
    font-size: 0.7em;
  }
  th[aria-sort='descending'] button::after {
    content: ' ▼';
  }
  .score {
    display: inline-block;
    min-width: 2.2rem;
  }
  .chart {
    border: 1px solid var(--_border);
    border-radius: var(--_radius);
    padding: 0.5rem;
  }
  .chart svg {
    display: block;
    width: 100%;
    height: var(--session-analytics-chart-height, 10rem);
    overflow: visible;
  }
  .grid {
    stroke: var(--_border);
    stroke-width: 1;
  }
  .axis {
    fill: var(--_muted);
    font-size: 10px;
  }
  .line {
    fill: none;
    stroke-width: 2;
    vector-effect: non-scaling-stroke;
  }
  .changes {
    stroke: var(--session-analytics-changes-color, var(--_accent));
  }
  .runs {
    stroke: var(--session-analytics-runs-color, var(--_ok));
    stroke-dasharray: 4 3;
  }
  .legend {
    display: flex;
    flex-wrap: wrap;
    gap: 0.2rem 1rem;
    font-size: 0.8rem;
    color: var(--_muted);
    margin-top: 0.3rem;
  }
  .swatch {
    display: inline-block;
    width: 1.2rem;
    height: 0;
    border-top: 2px solid;
    vertical-align: middle;
    margin-right: 0.3rem;
  }
  .swatch.changes {
    border-color: var(--session-analytics-changes-color, var(--_accent));
  }
  .swatch.runs {
    border-color: var(--session-analytics-runs-color, var(--_ok));
    border-top-style: dashed;
  }
  details {
    margin-top: 0.4rem;
    font-size: 0.85rem;
  }
  details table {
    max-width: 28rem;
  }
  .attention {
    list-style: none;
    margin: 0;
    padding: 0;
    display: grid;
    gap: 0.3rem;
  }
  .attention li {
    border: 1px solid var(--_border);
    border-left: 4px solid var(--_warning);
    border-radius: 6px;
    padding: 0.35rem 0.6rem;
  }
  .test-user {
    color: var(--_muted);
    font-weight: normal;
  }
  .attention .why {
    color: var(--_muted);
    font-size: 0.85rem;
  }
  .empty,
  .error,
  .updated {
    margin: 0.4rem 0;
  }
  .updated {
    color: var(--_muted);
    font-size: 0.78rem;
  }
  /* Forced colours: the chosen range keeps a fill (the system's selected colours), and the chart is
     drawn in system colours (its two lines told apart by their dashes, as their swatches are). */
  @media (forced-colors: active) {
    fieldset label:has(input:checked) {
      forced-color-adjust: none;
      background: Highlight;
      color: HighlightText;
    }
    .chart svg {
      forced-color-adjust: none;
    }
    .grid {
      stroke: GrayText;
    }
    .axis {
      fill: CanvasText;
    }
    .changes,
    .runs {
      stroke: CanvasText;
    }
  }
`
