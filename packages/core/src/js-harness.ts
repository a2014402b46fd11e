/** The JavaScript test harness, as source text; see code-tests.ts for how tests are written. */

/**
 * JavaScript source of the harness: a script expression whose value is
 * `async (program: {name, source}, tests: {name, source}[], report?: (result: TestResult) => void)
 * => TestResult[]`. Evaluate it before any learner code (it takes the built-ins it relies on when
 * evaluated) and keep the function to yourself. It calls `report` as each test finishes and
 * resolves with every result; it rejects with a `SyntaxError` carrying `file` and, where the engine
 * tells, `line`, when the program or a test file cannot be compiled. It compiles with the
 * `AsyncFunction` constructor, so the realm must allow it. TypeScript sources are given with their
 * types stripped, lines kept.
 */
export const JS_HARNESS: string = String.raw`(() => {
  'use strict'
  // Everything the harness relies on is taken now, before any learner code runs: a program that
  // later patches Object.is, JSON or Array.prototype cannot change how results are judged.
  const apply = Reflect.apply
  const uncurry = (f) => (self, ...rest) => apply(f, self, rest)
  const is = Object.is
  const keys = Object.keys
  const getPrototypeOf = Object.getPrototypeOf
  const create = Object.create
  const defineProperty = Object.defineProperty
  const PromiseCtor = Promise
  const SyntaxErrorCtor = SyntaxError
  const isArray = Array.isArray
  const ErrorCtor = Error
  const StringCtor = String
  const abs = Math.abs
  const pow = Math.pow
  const round = Math.round
  const dateNow = Date.now
  const perf = typeof performance === 'object' && performance !== null && typeof performance.now === 'function' ? performance : null
  const perfNow = perf ? perf.now : null
  const now = () => (perf ? apply(perfNow, perf, []) : dateNow())
  const AsyncFunction = (async function () {}).constructor
  const split = uncurry(String.prototype.split)
  const slice = uncurry(String.prototype.slice)
  const indexOf = uncurry(String.prototype.indexOf)
  const lastIndexOf = uncurry(String.prototype.lastIndexOf)
  const trim = uncurry(String.prototype.trim)
  const strIncludes = uncurry(String.prototype.includes)
  const replace = uncurry(String.prototype.replace)
  const startsWith = uncurry(String.prototype.startsWith)
  const repeat = uncurry(String.prototype.repeat)
  const arrIncludes = uncurry(Array.prototype.includes)
  const endsWith = uncurry(String.prototype.endsWith)
  const exec = uncurry(RegExp.prototype.exec)
  const reTest = uncurry(RegExp.prototype.test)
  const join = uncurry(Array.prototype.join)
  const getTime = uncurry(Date.prototype.getTime)
  const objectToString = uncurry(Object.prototype.toString)
  const hasOwn = uncurry(Object.prototype.hasOwnProperty)
  const stringify = JSON.stringify
  const MapProto = Map.prototype
  const SetProto = Set.prototype
  const mapGet = uncurry(MapProto.get)
  const mapHas = uncurry(MapProto.has)
  const mapEntries = uncurry(MapProto.entries)
  const setValues = uncurry(SetProto.values)
  const setHas = uncurry(SetProto.has)
  const mapSize = uncurry(Object.getOwnPropertyDescriptor(MapProto, 'size').get)
  const setSize = uncurry(Object.getOwnPropertyDescriptor(SetProto, 'size').get)
  const push = (list, item) => {
    list[list.length] = item
  }
  const record = (fields) => {
    const out = create(null)
    const names = keys(fields)
    for (let i = 0; i < names.length; i++) out[names[i]] = fields[names[i]]
    return out
  }

  // The API a test file is given, as the parameters of the function its source becomes.
  const API = ['test', 'it', 'describe', 'expect', 'assert', 'require', 'beforeEach', 'afterEach', 'beforeAll', 'afterAll', '__session_kit_import__']
  const TOOL_MODULES = ['vitest', '@jest/globals', 'node:test', 'bun:test']
  const ASSERT_MODULES = ['assert', 'assert/strict', 'node:assert', 'node:assert/strict']

  class AssertionError extends ErrorCtor {
    constructor(message) {
      super(message)
      this.name = 'AssertionError'
    }
  }

  // ---- showing values --------------------------------------------------------------------------

  const clip = (text) => (text.length > 200 ? slice(text, 0, 197) + '...' : text)
  function show(value, depth = 0) {
    try {
      if (typeof value === 'string') return clip(stringify(value))
      if (typeof value === 'number') return is(value, -0) ? '-0' : StringCtor(value)
      if (typeof value === 'bigint') return StringCtor(value) + 'n'
      if (typeof value === 'symbol') return 'Symbol(' + (value.description ?? '') + ')'
      if (typeof value === 'function') return '[Function ' + (value.name || 'anonymous') + ']'
      if (value === null || typeof value !== 'object') return StringCtor(value)
      if (value instanceof ErrorCtor) return value.name + ': ' + value.message
      if (depth > 2) return isArray(value) ? '[...]' : '{...}'
      const parts = []
      if (isArray(value)) {
        for (let i = 0; i < value.length && i < 20; i++) push(parts, show(value[i], depth + 1))
        if (value.length > 20) push(parts, '... ' + (value.length - 20) + ' more')
        return clip('[' + join(parts, ', ') + ']')
      }
      const tag = objectToString(value)
      if (tag === '[object Date]') return 'Date(' + StringCtor(getTime(value)) + ')'
      if (tag === '[object Map]') return 'Map(' + mapSize(value) + ')'
      if (tag === '[object Set]') return 'Set(' + setSize(value) + ')'
      const names = keys(value)
      for (let i = 0; i < names.length && i < 20; i++) push(parts, names[i] + ': ' + show(value[names[i]], depth + 1))
      const proto = getPrototypeOf(value)
      const ctor = proto && proto.constructor && proto.constructor !== Object ? proto.constructor.name + ' ' : ''
      return clip(ctor + '{' + (parts.length ? ' ' + join(parts, ', ') + ' ' : '') + '}')
    } catch {
      return '<value>'
    }
  }

  // ---- equality --------------------------------------------------------------------------------

  function equal(a, b, strict, seen = []) {
    if (is(a, b)) return true
    if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return !strict && a === b
    for (let i = 0; i < seen.length; i++) if (seen[i][0] === a && seen[i][1] === b) return true
    push(seen, [a, b])
    if (strict && getPrototypeOf(a) !== getPrototypeOf(b)) return false
    if (isArray(a) !== isArray(b)) return false
    const tagA = objectToString(a)
    if (tagA !== objectToString(b)) return false
    if (tagA === '[object Date]') return getTime(a) === getTime(b)
    if (tagA === '[object RegExp]') return StringCtor(a) === StringCtor(b)
    if (tagA === '[object Map]') {
      if (mapSize(a) !== mapSize(b)) return false
      for (const [k, v] of mapEntries(a)) if (!mapHas(b, k) || !equal(v, mapGet(b, k), strict, seen)) return false
      return true
    }
    if (tagA === '[object Set]') {
      if (setSize(a) !== setSize(b)) return false
      outer: for (const v of setValues(a)) {
        if (setHas(b, v)) continue
        for (const w of setValues(b)) if (equal(v, w, strict, seen)) continue outer
        return false
      }
      return true
    }
    if (isArray(a) && a.length !== b.length) return false
    // As Jest's toEqual: a property holding undefined counts as absent, unless strict.
    const own = (o) => {
      const list = []
      for (const k of keys(o)) if (strict || o[k] !== undefined) push(list, k)
      return list
    }
    const ka = own(a)
    const kb = own(b)
    if (ka.length !== kb.length) return false
    for (const k of ka) if (!hasOwn(b, k) || !equal(a[k], b[k], strict, seen)) return false
    return true
  }

  // ---- expect and assert -----------------------------------------------------------------------

  function thrown(fn) {
    if (typeof fn !== 'function') throw new AssertionError('expected a function to call, received ' + show(fn))
    try {
      fn()
    } catch (error) {
      return { error }
    }
    return null
  }

  function matchesError(error, expected) {
    if (expected === undefined) return true
    const message = error !== null && typeof error === 'object' ? StringCtor(error.message) : StringCtor(error)
    if (typeof expected === 'string') return strIncludes(message, expected)
    if (expected instanceof RegExp) return reTest(expected, message)
    if (typeof expected === 'function') return error instanceof expected
    if (expected !== null && typeof expected === 'object') return message === StringCtor(expected.message)
    return false
  }

  function contains(container, item, deep) {
    if (typeof container === 'string') return typeof item === 'string' && strIncludes(container, item)
    if (container === null || container === undefined) return false
    if (isArray(container)) {
      for (let i = 0; i < container.length; i++) if (deep ? equal(container[i], item, false) : is(container[i], item)) return true
      return false
    }
    if (objectToString(container) === '[object Set]') return setHas(container, item)
    for (const value of container) if (deep ? equal(value, item, false) : is(value, item)) return true
    return false
  }

  function matchers(received, negate) {
    const check = (ok, message, negated) => {
      if (!!ok === negate) throw new AssertionError(negate ? negated : message)
    }
    const got = () => show(received)
    return {
      toBe(expected) {
        check(is(received, expected), 'expected ' + show(expected) + ', received ' + got(), 'expected a value other than ' + show(expected))
      },
      toEqual(expected) {
        check(equal(received, expected, false), 'expected ' + show(expected) + ', received ' + got(), 'expected a value not equal to ' + show(expected))
      },
      toStrictEqual(expected) {
        check(equal(received, expected, true), 'expected ' + show(expected) + ', received ' + got(), 'expected a value not equal to ' + show(expected))
      },
      toBeTruthy() {
        check(received, 'expected a truthy value, received ' + got(), 'expected a falsy value, received ' + got())
      },
      toBeFalsy() {
        check(!received, 'expected a falsy value, received ' + got(), 'expected a truthy value, received ' + got())
      },
      toBeNull() {
        check(received === null, 'expected null, received ' + got(), 'expected a value other than null')
      },
      toBeUndefined() {
        check(received === undefined, 'expected undefined, received ' + got(), 'expected a value other than undefined')
      },
      toBeDefined() {
        check(received !== undefined, 'expected a defined value, received undefined', 'expected undefined, received ' + got())
      },
      toBeNaN() {
        check(is(received, NaN), 'expected NaN, received ' + got(), 'expected a value other than NaN')
      },
      toContain(item) {
        check(contains(received, item, false), 'expected ' + got() + ' to contain ' + show(item), 'expected ' + got() + ' not to contain ' + show(item))
      },
      toContainEqual(item) {
        check(contains(received, item, true), 'expected ' + got() + ' to contain ' + show(item), 'expected ' + got() + ' not to contain ' + show(item))
      },
      toHaveLength(length) {
        const actual = received === null || received === undefined ? undefined : received.length
        check(actual === length, 'expected length ' + show(length) + ', received length ' + show(actual), 'expected a length other than ' + show(length))
      },
      toHaveProperty(key, ...value) {
        const present = received !== null && received !== undefined && key in Object(received)
        const ok = present && (value.length === 0 || equal(received[key], value[0], false))
        const what = show(key) + (value.length ? ' equal to ' + show(value[0]) : '')
        check(ok, 'expected ' + got() + ' to have property ' + what, 'expected ' + got() + ' not to have property ' + what)
      },
      toMatch(pattern) {
        const ok = typeof received === 'string' && (typeof pattern === 'string' ? strIncludes(received, pattern) : reTest(pattern, received))
        check(ok, 'expected ' + got() + ' to match ' + show(pattern), 'expected ' + got() + ' not to match ' + show(pattern))
      },
      toBeGreaterThan(n) {
        check(received > n, 'expected ' + got() + ' to be greater than ' + show(n), 'expected ' + got() + ' not to be greater than ' + show(n))
      },
      toBeGreaterThanOrEqual(n) {
        check(received >= n, 'expected ' + got() + ' to be at least ' + show(n), 'expected ' + got() + ' to be less than ' + show(n))
      },
      toBeLessThan(n) {
        check(received < n, 'expected ' + got() + ' to be less than ' + show(n), 'expected ' + got() + ' not to be less than ' + show(n))
      },
      toBeLessThanOrEqual(n) {
        check(received <= n, 'expected ' + got() + ' to be at most ' + show(n), 'expected ' + got() + ' to be greater than ' + show(n))
      },
      toBeCloseTo(expected, digits = 2) {
        const ok = typeof received === 'number' && abs(expected - received) < pow(10, -digits) / 2
        check(ok, 'expected ' + got() + ' to be close to ' + show(expected) + ' (' + digits + ' digits)', 'expected ' + got() + ' not to be close to ' + show(expected))
      },
      toBeInstanceOf(type) {
        check(received instanceof type, 'expected an instance of ' + (type && type.name) + ', received ' + got(), 'expected a value that is not an instance of ' + (type && type.name))
      },
      toThrow(expected) {
        const outcome = thrown(received)
        const ok = outcome !== null && matchesError(outcome.error, expected)
        const what = expected === undefined ? '' : ' ' + show(expected)
        const message = outcome === null ? 'expected the function to throw' + what + ', but it returned' : 'expected the function to throw' + what + ', but it threw ' + show(outcome.error)
        check(ok, message, 'expected the function not to throw' + what + ', but it threw ' + (outcome ? show(outcome.error) : ''))
      },
    }
  }
  const MATCHERS = keys(matchers(undefined, false))

  function expect(received) {
    const positive = matchers(received, false)
    positive.not = matchers(received, true)
    // 'await expect(promise).resolves.toBe(3)' and '.rejects.toThrow('…')'
    const later = (settle) => {
      const out = {}
      for (const name of MATCHERS) {
        out[name] = async (...args) => {
          const value = await settle()
          return apply(matchers(value, false)[name], undefined, args)
        }
      }
      return out
    }
    positive.resolves = later(async () => {
      try {
        return await received
      } catch (error) {
        throw new AssertionError('expected the promise to resolve, but it rejected with ' + show(error))
      }
    })
    positive.rejects = later(async () => {
      let value
      try {
        value = await received
      } catch (error) {
        return () => {
          throw error
        }
      }
      throw new AssertionError('expected the promise to reject, but it resolved to ' + show(value))
    })
    return positive
  }

  function assert(value, message) {
    if (!value) throw new AssertionError(message ?? 'expected a truthy value, received ' + show(value))
  }
  const fail = (message, fallback) => {
    throw new AssertionError(message ?? fallback)
  }
  assert.ok = assert
  assert.equal = (a, b, message) => is(a, b) || a === b || fail(message, 'expected ' + show(b) + ', received ' + show(a))
  assert.strictEqual = assert.equal
  assert.notEqual = (a, b, message) => !(is(a, b) || a === b) || fail(message, 'expected a value other than ' + show(b))
  assert.notStrictEqual = assert.notEqual
  assert.deepEqual = (a, b, message) => equal(a, b, true) || fail(message, 'expected ' + show(b) + ', received ' + show(a))
  assert.deepStrictEqual = assert.deepEqual
  assert.notDeepEqual = (a, b, message) => !equal(a, b, true) || fail(message, 'expected a value not equal to ' + show(b))
  assert.notDeepStrictEqual = assert.notDeepEqual
  assert.throws = (fn, expected, message) => {
    if (typeof expected === 'string' && message === undefined) [expected, message] = [undefined, expected]
    const outcome = thrown(fn)
    if (outcome === null) fail(message, 'expected the function to throw')
    if (!matchesError(outcome.error, expected)) fail(message, 'the function threw ' + show(outcome.error) + ', not ' + show(expected))
  }
  assert.doesNotThrow = (fn, message) => {
    const outcome = thrown(fn)
    if (outcome !== null) fail(message, 'expected the function not to throw, but it threw ' + show(outcome.error))
  }
  assert.rejects = async (promise, expected, message) => {
    try {
      await (typeof promise === 'function' ? promise() : promise)
    } catch (error) {
      if (!matchesError(error, expected)) fail(message, 'the promise rejected with ' + show(error) + ', not ' + show(expected))
      return
    }
    fail(message, 'expected the promise to reject')
  }
  assert.match = (text, pattern, message) => (typeof text === 'string' && reTest(pattern, text)) || fail(message, 'expected ' + show(text) + ' to match ' + show(pattern))
  assert.fail = (message) => fail(message, 'failed')
  assert.strict = assert
  assert.AssertionError = AssertionError

  // ---- preparing the sources -------------------------------------------------------------------

  const IDENT = '[A-Za-z_$][\\w$]*'
  const countLines = (text) => split(text, '\n').length
  const blankLike = (text) => {
    let out = ''
    for (let i = 1; i < countLines(text); i++) out += '\n'
    return out
  }
  const baseName = (file) => {
    const name = slice(file, lastIndexOf(file, '/') + 1)
    const dot = lastIndexOf(name, '.')
    return dot > 0 ? slice(name, 0, dot) : name
  }

  /**
   * The program's source without 'export' keywords (it runs as a function body) and the names a
   * test can import from it: '{names: [[exported, local]…], source, hasDefault}'.
   */
  function prepareProgram(source) {
    const names = []
    let hasDefault = false
    const declared = new RegExp('^(?:export\\s+(?:default\\s+)?)?(?:(?:async\\s+)?function\\s*\\*?\\s*|class\\s+|(?:const|let|var)\\s+)(' + IDENT + ')', 'gm')
    for (let m = exec(declared, source); m; m = exec(declared, source)) push(names, [m[1], m[1]])
    let out = replace(source, new RegExp('^export\\s*\\{([^}]*)\\}[^\\n;]*;?', 'gm'), (all, list) => {
      for (const part of split(list, ',')) {
        const words = split(trim(part), /\s+as\s+/)
        if (words[0]) push(names, [words[1] || words[0], words[0]])
      }
      return blankLike(all)
    })
    out = replace(out, new RegExp('^export\\s+default\\s+(?:((?:async\\s+)?function\\s*\\*?\\s*|class\\s+)(' + IDENT + '))?', 'gm'), (all, kind, name) => {
      hasDefault = true
      if (name) {
        push(names, ['default', name])
        return kind + name
      }
      return 'var __session_kit_default__ = '
    })
    out = replace(out, /^export\s+(?=(?:async\s+)?function\b|class\b|const\b|let\b|var\b)/gm, '')
    out = replace(out, /^export\s*\*[^\n;]*;?/gm, '')
    if (hasDefault && !names.some((n) => n[0] === 'default')) push(names, ['default', '__session_kit_default__'])
    return { source: out, names }
  }

  /** The test file's source with its static imports replaced by bindings, on the same lines. */
  function prepareTests(source) {
    const importLine = /^[ \t]*import\s+(?:([^'";]*?)\s*from\s*)?(['"])([^'"\n]+)\2[ \t]*;?/gm
    return replace(source, importLine, (all, clause, quote, spec) => {
      const from = stringify(spec)
      const bind = []
      const text = clause ? trim(clause) : ''
      const named = exec(/\{([^}]*)\}/, text)
      const star = exec(new RegExp('\\*\\s*as\\s+(' + IDENT + ')'), text)
      const first = exec(new RegExp('^(' + IDENT + ')\\s*(?:,|$)'), text)
      if (first) push(bind, 'const ' + first[1] + ' = __session_kit_import__(' + from + ', "default");')
      if (star) push(bind, 'const ' + star[1] + ' = __session_kit_import__(' + from + ', "*");')
      if (named) {
        for (const part of split(named[1], ',')) {
          const words = split(trim(part), /\s+as\s+/)
          if (!words[0]) continue
          const local = words[1] || words[0]
          // A name imported unchanged from the program is already in scope; so are the test functions.
          if (local === words[0] && (API.includes(local) || !isTool(spec))) {
            push(bind, '__session_kit_import__(' + from + ', null);')
            continue
          }
          push(bind, 'const ' + local + ' = __session_kit_import__(' + from + ', ' + stringify(words[0]) + ');')
        }
      }
      if (!bind.length) push(bind, '__session_kit_import__(' + from + ', null);')
      return join(bind, ' ') + blankLike(all)
    })
  }
  const isTool = (spec) => TOOL_MODULES.includes(spec) || ASSERT_MODULES.includes(spec)

  // ---- compiling, and finding the learner's lines in a stack -----------------------------------

  // Every body is compiled by this one call site, so all its frames share one location text.
  const compile = (params, body) => new AsyncFunction(...params, body)
  const LOCATION = /^\s*(?:at\s+)?(?:[^(@]*[(@])?(.*?):(\d+)(?::\d+)?\)?\s*$/
  let marker = null
  let offset = 0
  async function calibrate() {
    if (marker !== null) return
    marker = ''
    try {
      const probe = await compile([], 'return new Error("line 1")')()
      const frames = split(StringCtor(probe.stack), '\n')
      for (let i = 0; i < frames.length; i++) {
        const m = exec(LOCATION, frames[i])
        if (m) {
          marker = m[1]
          offset = +m[2] - 1
          return
        }
      }
    } catch {}
  }

  /** The innermost frame of a stack in the program or a test file: {file, line} or null. */
  function locate(error, names) {
    let stack
    try {
      stack = error !== null && typeof error === 'object' ? error.stack : undefined
    } catch {}
    if (!marker || typeof stack !== 'string') return null
    const frames = split(stack, '\n')
    for (let i = 0; i < frames.length; i++) {
      const m = exec(LOCATION, frames[i])
      if (!m || m[1] !== marker) continue
      const line = +m[2] - offset
      if (line > names.pad + 1) return { file: names.test, line: line - names.pad - 1 }
      if (line >= 2 && line <= names.programLines + 1) return { file: names.program, line: line - 1 }
    }
    return null
  }

  function describeError(error) {
    try {
      if (error instanceof AssertionError) return StringCtor(error.message)
      if (error !== null && typeof error === 'object' && typeof error.name === 'string' && 'message' in error) {
        const message = StringCtor(error.message)
        return message ? error.name + ': ' + message : error.name
      }
      return 'Uncaught ' + show(error)
    } catch {
      return 'Uncaught error'
    }
  }

  function syntaxError(error, file, line) {
    const out = new SyntaxErrorCtor(error && typeof error === 'object' ? StringCtor(error.message) : StringCtor(error))
    out.file = file
    if (line !== null) out.line = line
    return out
  }

  // ---- running ---------------------------------------------------------------------------------

  /**
   * Runs each test file against a fresh run of the program. Resolves with every result (each also
   * passed to 'report' as it finishes); rejects with a SyntaxError carrying 'file' and 'line' when the
   * program or a test file cannot be compiled.
   */
  return async function runTests(program, tests, report) {
    await calibrate()
    const results = []
    const emit = (fields) => {
      const result = record(fields)
      push(results, result)
      if (report) report(result)
    }
    const prepared = prepareProgram(StringCtor(program.source))
    const programLines = countLines(prepared.source)
    // A test file's body starts further down than the program's last line: in engines that name
    // every compiled body alike (QuickJS says "<input>"), a line number alone then tells a program
    // frame from a test frame.
    const pad = programLines + 100
    const padding = repeat('\n', pad)
    const exportsLiteral = []
    for (let i = 0; i < prepared.names.length; i++) {
      const [exported, local] = prepared.names[i]
      push(exportsLiteral, 'get ' + stringify(exported) + '() { return ' + local + ' }')
    }
    const programBody = 'return (async function () {\n' + prepared.source + '\n;return { __proto__: null, ' + join(exportsLiteral, ', ') + ' }\n})()'
    let runProgram
    try {
      runProgram = compile(['module', 'exports'], programBody)
    } catch (error) {
      const at = locate(error, { program: program.name, programLines, test: '', pad })
      throw syntaxError(error, program.name, at ? at.line : null)
    }
    const files = []
    for (let i = 0; i < tests.length; i++) {
      const file = tests[i]
      const source = prepareTests(StringCtor(file.source))
      try {
        push(files, { name: file.name, run: compile([...API, '__session_kit_module__'], padding + 'with (__session_kit_module__) return (async () => {\n' + source + '\n})()') })
      } catch (error) {
        const at = locate(error, { program: '', programLines: 0, test: file.name, pad })
        throw syntaxError(error, file.name, at ? at.line : null)
      }
    }
    for (let i = 0; i < files.length; i++) await runFile(files[i], { program: program.name, programLines, test: files[i].name, pad })
    return results

    async function runFile(file, names) {
      const elapsed = (started) => round((now() - started) * 1000) / 1000
      const fail = (name, error, started) => {
        const at = locate(error, names)
        emit({ name, passed: false, message: describeError(error), durationMs: elapsed(started), ...(at ?? {}) })
      }
      let started = now()
      const cjs = { exports: {} }
      const initialExports = cjs.exports
      let declared
      try {
        declared = await runProgram(cjs, cjs.exports)
      } catch (error) {
        fail(program.name, error, started)
        return
      }
      // What the test file sees of the program: its top-level names, read live, never the test API.
      const scope = create(null)
      const expose = (name, read) => {
        if (!arrIncludes(API, name)) defineProperty(scope, name, { get: read, enumerable: true, configurable: true })
      }
      for (let i = 0; i < prepared.names.length; i++) {
        const name = prepared.names[i][0]
        expose(name, () => declared[name])
      }
      const commonjs = cjs.exports !== initialExports || keys(initialExports).length > 0
      if (commonjs && cjs.exports !== null && typeof cjs.exports === 'object') {
        const exported = keys(cjs.exports)
        for (let i = 0; i < exported.length; i++) {
          const name = exported[i]
          expose(name, () => cjs.exports[name])
        }
      }
      const isProgram = (spec) => {
        const base = baseName(spec)
        const programBase = baseName(program.name)
        return base === programBase && (startsWith(spec, '.') || spec === programBase || spec === program.name)
      }
      const importFrom = (spec, what) => {
        spec = StringCtor(spec)
        if (isProgram(spec)) {
          if (what === null) return undefined
          if (what === '*') return commonjs ? cjs.exports : scope
          if (what === 'default') return commonjs ? cjs.exports : scope.default
          return scope[what]
        }
        if (arrIncludes(ASSERT_MODULES, spec)) return what === '*' || what === 'default' || what === 'strict' ? assert : what === null ? undefined : assert[what]
        if (arrIncludes(TOOL_MODULES, spec)) return what === '*' || what === 'default' ? tools : what === null ? undefined : tools[what]
        throw new ErrorCtor('Cannot import ' + stringify(spec) + ': a test file can import only the program (' + program.name + ') and the test functions')
      }
      const require = (spec) => importFrom(spec, '*')

      // Tests register as the file runs, then run one by one in order.
      const registered = []
      const groups = []
      let group = { prefix: '', parent: null, beforeEach: [], afterEach: [], beforeAll: [], afterAll: [], started: false }
      push(groups, group)
      const test = (name, fn) => {
        push(registered, { name: group.prefix + StringCtor(name), fn, group, at: locate(new ErrorCtor(), names) })
      }
      test.skip = () => {}
      test.todo = () => {}
      test.only = test
      const describe = (name, fn) => {
        const parent = group
        group = { prefix: parent.prefix + StringCtor(name) + ' > ', parent, beforeEach: [], afterEach: [], beforeAll: [], afterAll: [], started: false }
        push(groups, group)
        try {
          fn()
        } finally {
          group = parent
        }
      }
      describe.skip = () => {}
      describe.only = describe
      const hook = (kind) => (fn) => push(group[kind], fn)
      const beforeEach = hook('beforeEach')
      const afterEach = hook('afterEach')
      const beforeAll = hook('beforeAll')
      const afterAll = hook('afterAll')
      const tools = create(null)
      tools.test = test
      tools.it = test
      tools.describe = describe
      tools.expect = expect
      tools.beforeEach = beforeEach
      tools.afterEach = afterEach
      tools.beforeAll = beforeAll
      tools.afterAll = afterAll
      tools.assert = assert

      started = now()
      try {
        await file.run(test, test, describe, expect, assert, require, beforeEach, afterEach, beforeAll, afterAll, importFrom, scope)
      } catch (error) {
        fail(file.name, error, started)
        return
      }

      // A test that takes a parameter gets Jest's 'done' callback.
      const call = (fn) =>
        typeof fn === 'function' && fn.length > 0
          ? new PromiseCtor((resolve, reject) => fn((error) => (error ? reject(error) : resolve())))
          : fn()
      for (let i = 0; i < registered.length; i++) {
        const entry = registered[i]
        const chain = []
        for (let g = entry.group; g; g = g.parent) chain[chain.length] = g
        started = now()
        try {
          for (let c = chain.length - 1; c >= 0; c--) {
            if (chain[c].started) continue
            chain[c].started = true
            for (let h = 0; h < chain[c].beforeAll.length; h++) await call(chain[c].beforeAll[h])
          }
          for (let c = chain.length - 1; c >= 0; c--) for (let h = 0; h < chain[c].beforeEach.length; h++) await call(chain[c].beforeEach[h])
          await call(entry.fn)
          for (let c = 0; c < chain.length; c++) for (let h = 0; h < chain[c].afterEach.length; h++) await call(chain[c].afterEach[h])
          emit({ name: entry.name, passed: true, durationMs: elapsed(started), ...(entry.at ?? {}) })
        } catch (error) {
          fail(entry.name, error, started)
        }
      }
      for (let g = groups.length - 1; g >= 0; g--) {
        if (!groups[g].started) continue
        for (let h = 0; h < groups[g].afterAll.length; h++) {
          started = now()
          try {
            await call(groups[g].afterAll[h])
          } catch (error) {
            fail(groups[g].prefix + 'afterAll', error, started)
          }
        }
      }
    }
  }
})()`
