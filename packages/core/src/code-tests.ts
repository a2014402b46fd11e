/**
 * Tests on code: which files are tests, and the harnesses that run them, one per language. The
 * browser runner and the server's sandboxes run the same harness source, so a test passes or fails
 * alike in both. This is the `@session-kit/core/code-tests` entry (the harnesses are large strings:
 * a page loads them only when it runs tests).
 *
 * How a test file is written (no tooling needed):
 *
 * Python — files named `test_*.py` or `*_test.py`.
 * - The program is imported as a module named after its file first: `main.py` becomes `main`, so
 *   `import main` and `from main import add` work, and the program's top-level names are also
 *   there already, so a plain `assert add(1, 2) == 3` works. `if __name__ == "__main__":` blocks in
 *   the program do not run. The program is imported afresh for each test file.
 * - Each top-level `assert` is one test, named by its source (`assert add(1, 2) == 3`), in order.
 * - Each top-level `def test…():` is one test, named by the function, run after the whole file
 *   has run; each `test…` method of a `unittest.TestCase` subclass is one test, named
 *   `Class.method`. Plain functions only: no pytest fixtures, no async tests.
 * - Every other top-level statement runs in order, as setup.
 * - A failing assert says its own message if it has one; else, for a comparison (`==`, `<`, `in`,
 *   …) the two values (`left: 3, right: 4`), each side evaluated once; else "assertion failed".
 *   Inside a test function the assert's source comes first: `assert add(1, 2) == 4 (left: 3,
 *   right: 4)`. An exception fails the test with `TypeError: …` at the learner's innermost line
 *   (in the program or the test file).
 * - When importing the program raises, the test file's tests do not run: one failing result named
 *   after the program file (`main.py`) carries the error. When a setup statement raises, one failing
 *   result named after the test file carries it and the rest of that file does not run.
 *
 * JavaScript and TypeScript — files named `*.test.js|mjs|cjs|ts|mts` or `*.spec.js|mjs|cjs|ts|mts`.
 * - The program runs first (afresh for each test file); its top-level names are visible to the
 *   test file, read live. `import { add } from './main.js'`, `import * as main from './main'`,
 *   `import main from './main.js'` (its `export default`, or `module.exports`) and
 *   `const { add } = require('./main')` all resolve to the program; so do imports of the test
 *   functions from 'vitest', '@jest/globals', 'node:test', 'bun:test' and of `assert` from
 *   'assert', 'node:assert' and their '/strict' forms. Any other import fails the file. `export`
 *   in the program is allowed. Only static imports on lines of their own are understood.
 * - `test(name, fn)` / `it(name, fn)` register a test; `fn` may be async (awaited) or take Jest's
 *   `done` callback. `describe(name, fn)` groups tests (names become `group > test`);
 *   `beforeEach`, `afterEach`, `beforeAll`, `afterAll`; `test.skip`, `test.todo`, `describe.skip`
 *   leave tests out; `test.only` runs like `test`.
 * - `expect(x)`: `toBe`, `toEqual`, `toStrictEqual`, `toBeTruthy`, `toBeFalsy`, `toBeNull`,
 *   `toBeUndefined`, `toBeDefined`, `toBeNaN`, `toContain`, `toContainEqual`, `toHaveLength`,
 *   `toHaveProperty`, `toMatch`, `toBeGreaterThan(OrEqual)`, `toBeLessThan(OrEqual)`,
 *   `toBeCloseTo(n, digits = 2)`, `toBeInstanceOf`, `toThrow(text | RegExp | Class)`, each also
 *   under `.not`, and `await expect(promise).resolves.…` / `.rejects.…`.
 * - `assert(value, message?)` / `assert.ok`, `assert.equal` and `assert.strictEqual` (both compare
 *   strictly, as `node:assert/strict` does), `notEqual`, `deepEqual`, `deepStrictEqual`,
 *   `notDeepEqual`, `throws`, `doesNotThrow`, `rejects`, `match`, `fail`.
 * - A failure's message says what was expected and what was received (`expected 3, received 4`),
 *   with the file and line of the innermost frame in the learner's code.
 * - When the program throws while it runs, the file's tests do not run: one failing result named
 *   after the program file carries the error; an error while the test file itself runs (outside a
 *   test) gives one failing result named after the test file.
 * - TypeScript is run after its types are stripped (lines kept), by the caller.
 *
 * In both languages, what the program and the tests print is the run's output, not part of the
 * results, and a program or test file that cannot be compiled (a syntax error) makes the harness
 * throw instead of returning results: the caller reports that as an error of the run.
 */

// Types only: the functions that say which files are tests (isTestFile, runLanguage) are core's
// main entry's. A value re-exported here would be bundled into this entry's chunk, and every page
// with a runner would then download the harnesses up front to ask which files are tests.
export type { TestLanguage, TestResult } from './run-files.js'
export { PYTHON_HARNESS } from './python-harness.js'
export { JS_HARNESS } from './js-harness.js'
