/** The three roles a permission token can carry. */
export const Role = {
  Instructor: 'instructor',
  Learner: 'learner',
  Observer: 'observer',
} as const
export type Role = (typeof Role)[keyof typeof Role]

export const ROLES: readonly Role[] = [Role.Instructor, Role.Learner, Role.Observer]

/** Higher rank means more power; used to refuse inviting or promoting above oneself. */
export const ROLE_RANK: Readonly<Record<Role, number>> = { observer: 0, learner: 1, instructor: 2 }

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value)
}

/**
 * The role a participant acts with: an instructor's override stored by the server wins over the
 * role in the token.
 */
export function effectiveRole(tokenRole: Role, override?: Role | null): Role {
  return override ?? tokenRole
}
