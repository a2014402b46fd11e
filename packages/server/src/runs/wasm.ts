/**
 * The few WebAssembly types and functions the Python sandbox touches, declared here: the server
 * compiles against Node's types, which do not describe the WebAssembly global.
 */
export interface WasmModule {
  readonly wasmModule?: never
}
export interface WasmMemory {
  readonly buffer: ArrayBuffer
  grow(delta: number): number
}
export type WasmImports = Record<string, Record<string, unknown>>
interface WasmApi {
  compile(bytes: Uint8Array): Promise<WasmModule>
  instantiate(source: unknown, imports?: WasmImports): Promise<unknown>
  Memory: { prototype: WasmMemory }
}

export const WebAssemblyApi = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly
