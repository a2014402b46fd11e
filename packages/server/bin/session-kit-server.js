#!/usr/bin/env node
import { main } from '../dist/cli.js'

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== 0) process.exitCode = code
  },
  (err) => {
    console.error(err instanceof Error ? err.stack : err)
    process.exit(1)
  },
)
