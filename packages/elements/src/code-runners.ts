/**
 * What runners.ts loads the first time Python or tests run on a page: Python (Pyodide, whose own
 * files load after this) and test runs of JavaScript and TypeScript.
 */
export { runPython, testPython } from './python-runner.js'
export { testScript } from './sandbox-tests.js'
