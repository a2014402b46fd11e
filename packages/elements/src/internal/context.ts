import { createContext } from '@lit/context'
import type { RoomState } from '../room-state.js'

/** The nearest `<session-room>`'s state, provided to every element inside it. */
export const roomContext = createContext<RoomState | undefined>(Symbol('session-room'))
