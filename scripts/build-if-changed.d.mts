/** Why the build must run, or undefined when its output is newer than everything it reads. */
export function buildNeeded(root?: string): string | undefined
/** Record that a complete build just ended. */
export function recordBuild(root?: string): void
export function stampFile(root: string): string
