/** How an erased person appears wherever something of theirs stays (the code they typed, a snapshot they took). */
export const FORMER_PARTICIPANT_NAME = 'A former participant'

/**
 * One erasure: whose data goes, the placeholder id that stands in for them where something stays
 * (`former-participant:<random>`, the same in every table of one erasure — what one person did
 * still reads as one person's — and never derived from their id), and the names they went by.
 */
export interface Forgetting {
  userId: string
  placeholder: string
  names: Set<string>
  emails: string[]
}
