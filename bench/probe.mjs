// Loaded into a benchmark's server process (`node --expose-gc --import bench/probe.mjs`, see
// startServer({ probe: true }) in lib.mjs): answers over the IPC channel with the process's memory
// after a full collection, so readings compare what the server holds rather than its garbage.
process.on('message', async (m) => {
  if (m?.probe !== 'memory') return
  globalThis.gc?.()
  // What collected buffers held is given back a moment after the collection: read after that.
  await new Promise((r) => setTimeout(r, 250))
  globalThis.gc?.()
  process.send({ probe: 'memory', id: m.id, ...process.memoryUsage() })
})
// The channel alone must not keep the server running once it has shut down.
process.channel?.unref()
