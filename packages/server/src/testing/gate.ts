import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net'

/**
 * A TCP forwarder in front of a port: a network link a test can cut. While shut it drops every
 * connection (to whoever dials through it, the other side is down), and shutting it cuts the
 * connections it carries. Crash tests put one between writers and a restarted server, to look at
 * what the server stored before any writer can upload its replica again, and one between a server
 * and PostgreSQL.
 */
export class Gate {
  #open = true
  #server: Server
  #sockets = new Set<Socket>()
  readonly ready: Promise<void>

  constructor(private readonly targetPort: number) {
    this.#server = createServer((down) => {
      if (!this.#open) return down.destroy()
      const up = connect(this.targetPort, '127.0.0.1')
      for (const s of [down, up]) {
        this.#sockets.add(s)
        s.on('close', () => {
          this.#sockets.delete(s)
          down.destroy()
          up.destroy()
        })
        s.on('error', () => {})
      }
      down.pipe(up)
      up.pipe(down)
    })
    this.ready = new Promise((resolve) => this.#server.listen(0, '127.0.0.1', resolve))
  }

  get url() {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`
  }

  shut() {
    this.#open = false
    for (const s of this.#sockets) s.destroy()
  }

  open() {
    this.#open = true
  }

  close() {
    this.shut()
    return new Promise<void>((resolve) => this.#server.close(() => resolve()))
  }
}
