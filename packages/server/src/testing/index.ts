/**
 * Helpers for tests that need a real Session Kit server: a fresh embedded database (or a fresh
 * PostgreSQL database), a server on a free port, tokens and a raw protocol client.
 */
export { backends, freshDataDir, freshPostgres, removeDir, type Backend } from './db.js'
export { startTestServer, TEST_API_KEY, TEST_SECRET, type TestServer } from './server.js'
export { RawClient } from './client.js'
export { SimulatedPlatform, LTI_SCOPES, type SimulatedUser, type ResourceLinkMessage, type DeepLinkingMessage, type PlatformMessage, type PlatformMember, type IdTokenOverrides } from './lti-platform.js'
