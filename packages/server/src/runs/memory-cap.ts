/**
 * Bounds the WebAssembly memory of a sandbox's thread. The interpreters (Pyodide, QuickJS) are
 * Emscripten programs whose heap grows through `WebAssembly.Memory#grow`; refusing to grow past the
 * limit makes their allocator fail, which they report as MemoryError / "out of memory". (QuickJS's
 * own memory limit cannot be relied on: in the wasm build it counts allocations, not their size.)
 */
import { WebAssemblyApi, type WasmMemory } from './wasm.js'

export interface MemoryCap {
  /** Whether the program asked for more than the limit. */
  readonly reached: boolean
}

export function capWasmMemory(maxBytes: number): MemoryCap {
  const cap = { reached: false }
  const grow = WebAssemblyApi.Memory.prototype.grow
  WebAssemblyApi.Memory.prototype.grow = function (this: WasmMemory, delta: number) {
    if (this.buffer.byteLength + delta * 65536 > maxBytes) {
      cap.reached = true
      throw new RangeError('The sandbox memory limit is reached.')
    }
    return grow.call(this, delta)
  }
  return cap
}
