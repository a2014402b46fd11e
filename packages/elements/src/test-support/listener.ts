/** What a listener received: HTTP requests (and WebSocket upgrades), TCP connections, UDP packets. */
export interface ListenerReport {
  requests: string[]
  connections: number
  udp: number
}

/**
 * A network listener on 127.0.0.1 started by the test run (see web-test-runner.config.mjs): the
 * address a hostile page tries to reach, which must hear nothing from the sandbox.
 */
export async function openListener() {
  const { id, http, stun, turn } = (await (await fetch('/__sk/listener')).json()) as { id: string; http: string; stun: string; turn: string }
  const report = async (close = false): Promise<ListenerReport> => (await fetch(`/__sk/listener?id=${id}${close ? '&close' : ''}`)).json()
  return { http, stun, turn, report, close: () => report(true) }
}
