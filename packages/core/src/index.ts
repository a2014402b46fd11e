export * from './roles.js'
export * from './permissions.js'
export * from './can.js'
export * from './why-not.js'
export * from './document.js'
export * from './ids.js'
export * from './tokens.js'
export * from './protocol.js'
// The HTTP answers' types; their schemas (and `parseApi`) are the `@session-kit/core/api` entry,
// so a page that only reads types never bundles them.
export type * from './api.js'
export { errorBodyMessage } from './error-body.js'
export * from './replay.js'
export * from './analytics.js'
