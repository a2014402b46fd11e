// Bundled by rollup.config.mjs into assets/ts-transform.js: Sucrase's TypeScript transform as one
// ES module (Sucrase itself ships CommonJS dependencies), fetched only when TypeScript runs.
export { transform } from 'sucrase'
