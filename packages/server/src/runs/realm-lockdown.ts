/**
 * Closes the JavaScript world of a sandbox's thread after its interpreter has started, in the
 * manner of SES's lockdown: no code from strings (the Function constructors of every kind, eval),
 * and no Node or network globals. Pyodide keeps its own references to what it needs; the worker
 * keeps its own (the message port) before calling this. Python code that obtains a JavaScript
 * object anyway (through `_pyodide_core.to_js`, say) finds only the language's built-ins.
 */
const REMOVED = [
  'process',
  'require',
  'module',
  'exports',
  'global',
  'Buffer',
  'fetch',
  'WebSocket',
  'EventSource',
  'XMLHttpRequest',
  'Worker',
  'SharedWorker',
  'BroadcastChannel',
  'MessageChannel',
  'navigator',
  'importScripts',
  'eval',
  'setImmediate',
  'clearImmediate',
]

export function lockDownRealm(): void {
  const refuse = function Function() {
    throw new EvalError('Code generation from strings is disabled in this sandbox.')
  }
  // `x instanceof Function` keeps working; calling or constructing it does not compile anything.
  refuse.prototype = Function.prototype
  Object.freeze(refuse)
  const kinds = [function () {}, async function () {}, function* () {}, async function* () {}]
  for (const fn of kinds) Object.defineProperty(Object.getPrototypeOf(fn), 'constructor', { value: refuse, writable: false, configurable: false, enumerable: false })
  Object.defineProperty(globalThis, 'Function', { value: refuse, writable: false, configurable: false, enumerable: false })
  for (const name of REMOVED) {
    try {
      delete (globalThis as Record<string, unknown>)[name]
    } catch {
      // A global that cannot be deleted is made useless instead.
    }
    if (name in globalThis) {
      try {
        Object.defineProperty(globalThis, name, { value: undefined, writable: false, configurable: false })
      } catch {
        // Left as Node made it: neither deletable nor redefinable.
      }
    }
  }
  // Stack frames must not hand out functions or receivers.
  Object.defineProperty(Error, 'prepareStackTrace', { value: undefined, writable: false, configurable: false })
}
