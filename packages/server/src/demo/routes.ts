import { Hono } from 'hono'
import type { AppEnv, Services } from '../http/context.js'
import { mintToken } from '../auth/tokens.js'
import { bundleBuilt, pageHeaders } from '../pages/routes.js'
import type { Sql } from '../store/db.js'
import { recentOutbox } from '../store/outbox.js'
import { createAssignment } from '../store/assignments.js'
import { createSession } from '../store/sessions.js'
import { demoAssignmentPage, demoPage } from './page.js'

export const DEMO_SESSION = 'demo'
export const DEMO_PEOPLE = [
  { role: 'instructor', sub: 'demo-instructor', name: 'Ada (instructor)' },
  { role: 'learner', sub: 'demo-learner', name: 'Grace (learner)' },
  { role: 'observer', sub: 'demo-observer', name: 'Linus (observer)' },
] as const

const STARTER = `// Welcome to Session Kit! Type here: the other two panes follow live.
function greet(name) {
  return \`Hello, \${name}!\`
}

console.log(greet('class'))
`

const STARTER_TESTS = `// Tests on main.js: "Run tests" runs them here; "Check on the server" runs them where the result can be trusted.
test('greets by name', () => {
  expect(greet('Ada')).toBe('Hello, Ada!')
})
`

const PYTHON = `# Python runs in the page too: the first run downloads it (a few MB), later runs start at once.
def greet(name):
    return f"Hello, {name}!"


if __name__ == "__main__":
    name = input("What is your name? ")
    print(greet(name))
`

const PYTHON_TESTS = `# Tests on greet.py: each assert and each test_ function is one test.
from greet import greet

assert greet("Ada") == "Hello, Ada!"


def test_empty_name():
    assert greet("") == "Hello, !"
`

export const DEMO_ASSIGNMENT = 'demo-assignment'
/** Two learners, each in a room of their own, and the instructor's overview of both. */
export const DEMO_CLASS = [
  { role: 'learner', sub: 'demo-learner', name: 'Grace (learner)' },
  { role: 'learner', sub: 'demo-learner-2', name: 'Alan (learner)' },
  { role: 'instructor', sub: 'demo-instructor', name: 'Ada (instructor)' },
] as const

const ASSIGNMENT_INSTRUCTIONS = `Write \`fizzbuzz(n)\` so that it **returns**:

- \`"Fizz"\` when \`n\` is a multiple of 3, \`"Buzz"\` when it is a multiple of 5,
- \`"FizzBuzz"\` when it is both, and otherwise \`n\` as text.

**Run tests** checks your code here at once; **Check on the server** gives the result that counts
(it also runs a hidden test). Press **Submit** when you are done.`

const ASSIGNMENT_STARTER = `function fizzbuzz(n) {
  // your code here
}

console.log([1, 2, 3, 4, 5].map(fizzbuzz).join(' '))
`

const ASSIGNMENT_TESTS = `test('multiples of 3 are Fizz', () => {
  expect(fizzbuzz(9)).toBe('Fizz')
})

test('multiples of 5 are Buzz', () => {
  expect(fizzbuzz(10)).toBe('Buzz')
})
`

const ASSIGNMENT_HIDDEN = `test('multiples of 15 are FizzBuzz', () => {
  expect(fizzbuzz(30)).toBe('FizzBuzz')
})
`

/** Create the demo session and the demo assignment once, owned by the demo instructor. */
export async function seedDemo(sql: Sql) {
  await createSession(sql, { id: DEMO_SESSION, title: 'Demo: warm-up in JavaScript and Python', language: 'javascript', ownerId: DEMO_PEOPLE[0].sub, files: { 'main.js': STARTER, 'main.test.js': STARTER_TESTS, 'greet.py': PYTHON, 'test_greet.py': PYTHON_TESTS } })
  await createAssignment(sql, {
    id: DEMO_ASSIGNMENT,
    title: 'Demo: FizzBuzz',
    instructions: ASSIGNMENT_INSTRUCTIONS,
    language: 'javascript',
    files: { 'main.js': ASSIGNMENT_STARTER },
    visibleTests: { 'main.test.js': ASSIGNMENT_TESTS },
    hiddenTests: { 'hidden.test.js': ASSIGNMENT_HIDDEN },
    dueAt: null,
    submitPolicy: 'keep-editing',
    ownerId: DEMO_PEOPLE[0].sub,
  })
}

/** The development demo: one room open three times, as instructor, learner and observer. */
export function demoRoutes(services: Services) {
  const r = new Hono<AppEnv>()
  const { config } = services
  const frameAncestors = config.allowedOrigins.length ? `'self' ${config.allowedOrigins.join(' ')}` : '*'
  r.get('/', async (c) => {
    const origin = new URL(c.req.url).origin
    const people = await Promise.all(
      DEMO_PEOPLE.map(async (p) => ({ ...p, token: await mintToken({ sub: p.sub, name: p.name, sid: DEMO_SESSION, role: p.role }, config.secret, { ttl: '12h' }) })),
    )
    pageHeaders(c, frameAncestors)
    return c.html(demoPage({ origin, session: DEMO_SESSION, people, built: await bundleBuilt(), outbox: services.mailer.smtp ? [] : await recentOutbox(services.db.sql, DEMO_SESSION, 5) }))
  })
  r.get('/demo-assignment', async (c) => {
    const origin = new URL(c.req.url).origin
    const people = await Promise.all(
      DEMO_CLASS.map(async (p) => ({ ...p, token: await mintToken({ sub: p.sub, name: p.name, assignment: DEMO_ASSIGNMENT, role: p.role }, config.secret, { ttl: '12h' }) })),
    )
    pageHeaders(c, frameAncestors)
    return c.html(demoAssignmentPage({ origin, assignment: DEMO_ASSIGNMENT, people, built: await bundleBuilt() }))
  })
  return r
}
