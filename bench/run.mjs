#!/usr/bin/env node
// npm run bench [name …]: runs the named benchmarks (all when none is named), one after another,
// and prints how long each took. Every benchmark prints its table and writes bench/results/<name>.json.
const BENCHES = ['sync', 'lecture', 'classroom', 'browser', 'connections', 'load', 'scale', 'player', 'analytics', 'attack', 'runs', 'size']
// Names come before the first option: `npm run bench -- sync --seconds 10`.
const args = process.argv.slice(2)
const firstOption = args.findIndex((a) => a.startsWith('-'))
const names = firstOption === -1 ? args : args.slice(0, firstOption)
for (const name of names) {
  if (!BENCHES.includes(name)) {
    console.error(`unknown benchmark "${name}"; available: ${BENCHES.join(', ')}`)
    process.exit(2)
  }
}
const timings = []
const started = performance.now()
for (const name of names.length ? names : BENCHES) {
  console.log(`\n### bench: ${name}\n`)
  const t0 = performance.now()
  await (await import(`./${name}.mjs`)).run(process.argv.slice(2).filter((a) => a !== name))
  timings.push(`${name} ${((performance.now() - t0) / 1000).toFixed(0)} s`)
}
console.log(`\nbenchmarks took ${((performance.now() - started) / 1000).toFixed(0)} s (${timings.join(', ')})`)
