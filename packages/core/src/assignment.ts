/**
 * What happens when a learner submits an assignment: they keep editing their room, or editing
 * there is locked (an instructor can unlock it).
 */
export const SUBMIT_POLICIES = ['keep-editing', 'lock'] as const
export type SubmitPolicy = (typeof SUBMIT_POLICIES)[number]
