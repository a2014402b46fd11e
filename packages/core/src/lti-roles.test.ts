import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { roleFromLti } from './index.js'

const M = 'http://purl.imsglobal.org/vocab/lis/v2/membership#'
const INST = 'http://purl.imsglobal.org/vocab/lis/v2/institution/person#'
const SYS = 'http://purl.imsglobal.org/vocab/lis/v2/system/person#'
const TA = 'http://purl.imsglobal.org/vocab/lis/v2/membership/Instructor#TeachingAssistant'
const TEST_USER = 'http://purl.imsglobal.org/vocab/lti/system/person#TestUser'

/** Role sets as Canvas and Moodle send them in a launch's `https://purl.imsglobal.org/spec/lti/claim/roles`. */
const CASES: [string, string[], { role: string; mayOwn: boolean; testUser?: boolean }][] = [
  ['Canvas: a teacher', [`${INST}Instructor`, `${M}Instructor`, `${SYS}User`], { role: 'instructor', mayOwn: true }],
  ['Canvas: a TA (sent as Instructor and TeachingAssistant)', [`${INST}Student`, `${M}Instructor`, TA, `${SYS}User`], { role: 'instructor', mayOwn: false }],
  ['Canvas: a TA listed sub-role first', [TA, `${M}Instructor`], { role: 'instructor', mayOwn: false }],
  ['Canvas: a designer', [`${M}ContentDeveloper`, `${SYS}User`], { role: 'instructor', mayOwn: true }],
  ['Canvas: a student', [`${INST}Student`, `${M}Learner`, `${SYS}User`], { role: 'learner', mayOwn: false }],
  ['Canvas: a teacher elsewhere, a student in this course', [`${INST}Instructor`, `${M}Learner`, `${SYS}User`], { role: 'learner', mayOwn: false }],
  ['Canvas: an observer (parent)', [`${M}Mentor`, `${SYS}User`], { role: 'observer', mayOwn: false }],
  ['Canvas: student view', [`${M}Learner`, TEST_USER], { role: 'learner', mayOwn: false, testUser: true }],
  ['Canvas: an account admin not enrolled in the course', [`${INST}Administrator`, `${SYS}SysAdmin`, `${SYS}User`], { role: 'observer', mayOwn: false }],
  ['Moodle: a teacher (mod/lti:manage)', [`${M}Instructor`], { role: 'instructor', mayOwn: true }],
  ['Moodle: a site administrator', [`${INST}Administrator`, `${M}Instructor`, `${SYS}Administrator`], { role: 'instructor', mayOwn: true }],
  ['Moodle: a student', [`${M}Learner`], { role: 'learner', mayOwn: false }],
  ['LTI 1.1 short names: Instructor', ['Instructor'], { role: 'instructor', mayOwn: true }],
  ['LTI 1.1 short names: Learner', ['Learner'], { role: 'learner', mayOwn: false }],
  ['LTI 1.1 URN: a teaching assistant', ['urn:lti:role:ims/lis/TeachingAssistant'], { role: 'instructor', mayOwn: false }],
  ['LTI 1.1 URN: Instructor/TeachingAssistant', ['urn:lti:role:ims/lis/Instructor/TeachingAssistant', 'urn:lti:role:ims/lis/Instructor'], { role: 'instructor', mayOwn: false }],
  ['LTI 1.1 URN: Mentor', ['urn:lti:role:ims/lis/Mentor'], { role: 'observer', mayOwn: false }],
  ['no roles', [], { role: 'observer', mayOwn: false }],
  ['an unknown course role', [`${M}Manager`, `${M}Member`], { role: 'observer', mayOwn: false }],
  ['student view alone', [TEST_USER], { role: 'learner', mayOwn: false, testUser: true }],
  ['student view of a teacher (never an instructor)', [`${M}Instructor`, TEST_USER], { role: 'learner', mayOwn: false, testUser: true }],
]

describe('roleFromLti: the Session Kit role of an LMS launch, by least privilege', () => {
  for (const [name, roles, want] of CASES) {
    it(name, () => {
      const got = roleFromLti(roles)
      assert.deepEqual({ role: got.role, mayOwn: got.mayOwn, testUser: got.testUser }, { testUser: false, ...want })
    })
  }

  it('says which course role it went by', () => {
    assert.equal(roleFromLti([`${INST}Instructor`, `${M}Learner`]).because, `${M}Learner`)
    assert.equal(roleFromLti([`${M}Instructor`, TA]).because, TA)
    assert.equal(roleFromLti([`${INST}Administrator`]).because, null)
  })

  it('is not fooled by look-alikes or odd input', () => {
    assert.equal(roleFromLti([`https://evil.example/vocab/lis/v2/membership#Instructor`]).role, 'observer')
    assert.equal(roleFromLti([`${M}InstructorX`, `${M}Instructor/Learner`]).role, 'observer')
    assert.equal(roleFromLti([42, null, { role: 'Instructor' }] as unknown[]).role, 'observer')
    assert.equal(roleFromLti(undefined).role, 'observer')
    assert.equal(roleFromLti([`  ${M}Learner  `]).role, 'learner')
  })
})
