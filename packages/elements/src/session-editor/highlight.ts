import { defaultHighlightStyle, HighlightStyle } from '@codemirror/language'

/**
 * CodeMirror's default colour for each kind of token (its hex, as its default style has it) → ours,
 * light and dark. Same tags and same hues in light, each colour at least 4.5:1 (WCAG AA) against the
 * editor's background and its active line, in both schemes: the default's colours are for a white
 * page only (in dark most fall under 3:1, and its orange, for regular expressions and template
 * strings, is under 4.5:1 even on white).
 */
const PALETTE: Record<string, string> = {
  '#404740': '#404740, #9198a1', // meta
  '#708': '#708, #d2a8ff', // keywords
  '#219': '#219, #79c0ff', // atoms, booleans, URLs
  '#164': '#164, #7ee787', // literals (numbers)
  '#a11': '#a11, #ff7b72', // strings
  '#e40': '#a33500, #ffa657', // regular expressions, escapes, template strings
  '#00f': '#00f, #a5d6ff', // definitions of variables
  '#30a': '#30a, #bc8cff', // local variables
  '#085': '#006b40, #56d364', // type names, namespaces
  '#167': '#167, #56d4dd', // class names
  '#256': '#256, #76e3ea', // special variables, macros
  '#00c': '#00c, #79c0ff', // definitions of properties
  '#940': '#8a4600, #e3b341', // comments
  '#f00': '#d00000, #ff6b6b', // invalid
}

/** The default style's tags and weights, with our colours (`light-dark()`: the page's scheme). */
export const codeHighlight = HighlightStyle.define(
  defaultHighlightStyle.specs.map((s) => (typeof s.color === 'string' && PALETTE[s.color] ? { ...s, color: `light-dark(${PALETTE[s.color]})` } : s)),
)
