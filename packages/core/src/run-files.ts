/**
 * Which files run, and which are tests: small enough for every page (the harnesses that run the
 * tests are in `@session-kit/core/code-tests`, loaded only when tests run).
 */

/** The languages that have a runner and tests. */
export type TestLanguage = 'python' | 'javascript' | 'typescript'

const TEST_FILE = /(?:^test_.*\.py|_test\.py|\.(?:test|spec)\.(?:js|mjs|cjs|ts|mts))$/

/** A test file: Python `test_*.py` / `*_test.py`; JS/TS `*.test.js|mjs|cjs|ts|mts`, `*.spec.…` alike. */
export function isTestFile(name: string): boolean {
  return TEST_FILE.test(name.slice(name.lastIndexOf('/') + 1))
}

const LANGUAGE_OF: Record<string, TestLanguage> = {
  py: 'python',
  js: 'javascript',
  mjs: 'javascript',
  cjs: 'javascript',
  ts: 'typescript',
  mts: 'typescript',
  cts: 'typescript',
}

/** The language a file runs as, for programs and tests, or null when nothing runs it. */
export function runLanguage(name: string): TestLanguage | null {
  const base = name.slice(name.lastIndexOf('/') + 1)
  const dot = base.lastIndexOf('.')
  return dot > 0 ? (LANGUAGE_OF[base.slice(dot + 1).toLowerCase()] ?? null) : null
}

/** One test's outcome, as both harnesses report it. */
export interface TestResult {
  name: string
  passed: boolean
  /** Why it failed: the assertion's message, or `TypeError: …`. */
  message?: string
  durationMs: number
  /** Where: a failure's innermost line in the learner's files, a passing test's own line. */
  file?: string
  line?: number
}
