/** What a page downloads before anything is used, per set of elements on it (gzip bytes). */
export const PAGE_BUDGETS: { page: string; tags: string[] | null; budget: number }[]
