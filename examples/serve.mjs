// What the examples' start scripts share: their ports from the environment; a site that listens
// first (so a taken port is said at once) and answers 503 until what its pages need exists; and a
// taken port said in one line (which port, and the variable that picks another), not a stack trace.
import { createServer } from 'node:net'

/**
 * A request handler that answers 503 ("reload in a moment") until `ready()` is called, and 500
 * rather than crashing when `handle` throws.
 */
export function untilReady(handle) {
  let ready = false
  return {
    ready: () => {
      ready = true
    },
    handle: (req, res) => {
      if (!ready) return res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8', 'retry-after': '1' }).end('Starting: reload in a moment.\n')
      Promise.resolve()
        .then(() => handle(req, res))
        .catch((e) => {
          console.error(e)
          if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' })
          res.end('Something went wrong; see the terminal.\n')
        })
    },
  }
}

/** Listen on 127.0.0.1; a taken port rejects (EADDRINUSE) instead of crashing the process. */
export function listen(server, port) {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject)
      resolve(server.address().port)
    })
  })
}

/**
 * Run an example's `start()` from the command line. `ports` maps each of its options to the
 * environment variable that sets it and its default, e.g. `{ port: ['PORT', 8080] }`.
 */
export async function runExample(script, start, ports, opened) {
  const options = {}
  for (const [option, [variable, fallback]] of Object.entries(ports)) {
    const raw = process.env[variable]
    const port = raw === undefined || raw === '' ? fallback : Number(raw)
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      console.error(`${script}: ${variable} must be a port number (0 to 65535, 0 for any free port), not "${raw}".`)
      process.exit(2)
    }
    options[option] = port
  }
  let example
  try {
    example = await start(options)
  } catch (e) {
    if (e?.code !== 'EADDRINUSE' && e?.code !== 'EACCES') throw e
    const variable = Object.entries(ports).find(([option]) => options[option] === e.port)?.[1][0] ?? 'PORT'
    const free = await freePortAfter(e.port)
    const why = e.code === 'EACCES' ? 'needs privileges this process does not have' : 'is already in use (by npm start or another example?)'
    console.error(`${script}: port ${e.port} ${why}. Choose another: ${variable}=${free ?? '<port>'} node ${script}`)
    process.exit(1)
  }
  console.log(opened(example))
}

/** The first free port after `port`, to suggest one that works. */
async function freePortAfter(port) {
  const from = port < 1024 ? 8080 : port + 1
  for (let p = from; p <= Math.min(from + 20, 65535); p++) {
    const probe = createServer()
    if (await listen(probe, p).then(() => true, () => false)) {
      await new Promise((r) => probe.close(r))
      return p
    }
  }
  return undefined
}
