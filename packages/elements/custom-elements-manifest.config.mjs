// `cem analyze` (run by `npm run build`): custom-elements.json from the elements' JSDoc contracts.
export default {
  globs: ['src/**/*.ts'],
  exclude: ['src/**/*.test.ts', 'src/test-support/**', 'src/define/**', 'src/cdn.ts', 'src/session-kit.ts', 'src/index.ts'],
  outdir: '.',
  litelement: true,
}
