/** Where the server's copy of postgres.js lives (packages/server/vendor/postgres). */
export function vendorDir(root?: string): string
/** The patch this repository applies to postgres.js (patches/postgres+<version>.patch). */
export function patchFile(root?: string): string
/** The lines a patch adds, per file of the package (`src/connection.js`), blank and comment-only lines left out. */
export function addedLines(patch: string): Map<string, string[]>
/** What of `lines` `text` lacks, in order (empty when the fix is there). */
export function missingLines(text: string, lines: string[]): string[]
/** Write the copy from the patched node_modules/postgres; returns the files it changed. */
export function vendorPostgres(root?: string): string[]
