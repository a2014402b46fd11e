import { unsafeCSS } from 'lit'
import { PARTICIPANT_COLORS } from '@session-kit/core'

/** `.c0` … `.c11` set `--_c` to a participant colour: by class, never inline styles (strict CSP). */
export const participantColorClasses = unsafeCSS(PARTICIPANT_COLORS.map((c, i) => `.c${i} { --_c: ${c}; }`).join('\n'))

export const colorIndex = (color: string) => Math.max(0, PARTICIPANT_COLORS.indexOf(color))
