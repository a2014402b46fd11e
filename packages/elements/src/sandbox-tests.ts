/**
 * Test runs of JavaScript and TypeScript in the sandbox frame's worker, with core's harness (the one
 * the server's sandboxes run, so a test passes or fails alike in both). Loaded the first time tests
 * run on a page, with the harness.
 */
import type { TestResult } from '@session-kit/core/code-tests'
import { ended, runInSandbox, typeStripper, type RunContext, type TestFile, type TestRunResult } from './runners.js'

type TestContext = RunContext & { file: string; tests: TestFile[] }

/** Test results from the sandbox, checked: the code under test could have posted anything. */
export function checkedTests(value: unknown): TestResult[] {
  if (!Array.isArray(value)) return []
  return value.slice(0, 10_000).flatMap((t: Record<string, unknown> | null): TestResult[] => {
    if (!t || typeof t !== 'object' || typeof t.name !== 'string') return []
    const duration = Number(t.durationMs)
    const r: TestResult = { name: t.name.slice(0, 1000), passed: t.passed === true, durationMs: Number.isFinite(duration) ? Math.max(0, duration) : 0 }
    if (typeof t.message === 'string') r.message = t.message.slice(0, 10_000)
    if (typeof t.file === 'string') r.file = t.file.slice(0, 1000)
    if (Number.isSafeInteger(t.line) && (t.line as number) > 0) r.line = t.line as number
    return [r]
  })
}

/** A test run's result: `ok` when it ran, every test ran and passed. */
export function testRun<R extends { ok: boolean }>(result: R, tests: TestResult[]): R & { tests: TestResult[] } {
  return { ...result, ok: result.ok && tests.length > 0 && tests.every((t) => t.passed), tests }
}

/** A test run that never started, with one line saying why. */
export const testsNotRun = (ctx: RunContext, text: string, notStarted = true): TestRunResult => ({ ...ended(ctx, text, notStarted), tests: [] })

/** Run the test files against the program in a fresh sandbox (TypeScript: types stripped first, lines kept). */
export async function testScript(code: string, ctx: TestContext, typescript: boolean): Promise<TestRunResult> {
  let harness: string
  try {
    harness = (await import('@session-kit/core/code-tests')).JS_HARNESS
  } catch {
    return testsNotRun(ctx, 'The tests did not run: the test harness could not be loaded. Check the connection to the Session Kit server, then run again.')
  }
  let program = code
  let tests = ctx.tests
  if (typescript) {
    let strip: (code: string) => string
    try {
      strip = await typeStripper()
    } catch {
      return testsNotRun(ctx, 'The tests did not run: the TypeScript compiler could not be loaded. Check the connection to the Session Kit server, then run again.')
    }
    let at = ctx.file
    try {
      program = strip(code)
      tests = tests.map((t) => {
        at = t.name
        return { name: t.name, source: strip(t.source) }
      })
    } catch (e) {
      return testsNotRun(ctx, `TypeScript (${at}): ${(e as Error).message}`, false)
    }
  }
  const result = await runInSandbox('js', program, ctx, { file: ctx.file, tests, harness })
  const { tests: raw, ...rest } = result
  return testRun(rest, checkedTests(raw))
}
