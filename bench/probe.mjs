// Loaded into a benchmark's server process (`node --expose-gc --import bench/probe.mjs`, see
// startServer({ probe: true }) in lib.mjs): answers over the IPC channel
// - `{probe:'memory'}` with the process's memory after a full collection, so readings compare what
//   the server holds rather than its garbage;
// - `{probe:'trace'}` with the per-change timings the server keeps when run with SESSION_KIT_TRACE=1
//   (`globalThis.__sessionKitTrace.drain()`: `[{receivedAt, relayedAt}]`, frame received → relay
//   written, in performance.timeOrigin + performance.now() ms), or `trace: undefined` when this
//   build keeps none.
process.on('message', async (m) => {
  if (m?.probe === 'trace') {
    let trace
    try {
      trace = globalThis.__sessionKitTrace?.drain()
    } catch {}
    process.send({ probe: 'trace', id: m.id, trace })
    return
  }
  if (m?.probe !== 'memory') return
  globalThis.gc?.()
  // What collected buffers held is given back a moment after the collection: read after that.
  await new Promise((r) => setTimeout(r, 250))
  globalThis.gc?.()
  process.send({ probe: 'memory', id: m.id, ...process.memoryUsage() })
})
// The channel alone must not keep the server running once it has shut down.
process.channel?.unref()
