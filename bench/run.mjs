#!/usr/bin/env node
// npm run bench [name …]: runs the named benchmarks (all when none is named).
const BENCHES = ['sync', 'player', 'analytics']
// Names come before the first option: `npm run bench -- sync --seconds 10`.
const args = process.argv.slice(2)
const firstOption = args.findIndex((a) => a.startsWith('-'))
const names = firstOption === -1 ? args : args.slice(0, firstOption)
for (const name of names.length ? names : BENCHES) {
  if (!BENCHES.includes(name)) {
    console.error(`unknown benchmark "${name}"; available: ${BENCHES.join(', ')}`)
    process.exit(2)
  }
  console.log(`\n### bench: ${name}\n`)
  await (await import(`./${name}.mjs`)).run(process.argv.slice(2))
}
