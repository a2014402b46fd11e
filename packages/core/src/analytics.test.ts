import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  analyticsCsv,
  computeAnalytics,
  connectionIntervals,
  csvField,
  engagementScore,
  mergeIntervals,
  peakConcurrent,
  rangeBounds,
  type AnalyticsFacts,
  type ParticipantFacts,
} from './analytics.js'
import { needsAttention } from './attention.js'

const M = 60_000
const T0 = Date.UTC(2026, 0, 5, 9, 0, 0)

describe('analytics formulas', () => {
  it('ranges are whole minutes ending at the minute of `end`, never before the session', () => {
    const end = T0 + 120 * M + 20_000
    assert.deepEqual(rangeBounds('1h', end, T0), { from: T0 + 61 * M, to: end })
    assert.deepEqual(rangeBounds('24h', end, T0), { from: T0, to: end })
    assert.deepEqual(rangeBounds('all', end, T0 + 30_000), { from: T0, to: end })
    assert.deepEqual(rangeBounds('all', end, null), { from: T0 + 120 * M, to: end })
  })

  it('merges overlapping connections and clips them to the range', () => {
    assert.deepEqual(
      mergeIntervals(
        [
          [50, 80],
          [0, 30],
          [20, 40],
          [90, 200],
        ],
        10,
        100,
      ),
      [
        [10, 40],
        [50, 80],
        [90, 100],
      ],
    )
    assert.deepEqual(mergeIntervals([[0, 5]], 10, 20), [])
  })

  it('peak concurrency counts people, and back-to-back visits do not overlap', () => {
    assert.equal(
      peakConcurrent([
        [[0, 10]],
        [[5, 15]],
        [[10, 20]],
      ]),
      2,
    )
    assert.equal(peakConcurrent([[[0, 10]], [[10, 20]]]), 1)
    assert.equal(peakConcurrent([]), 0)
  })

  it('engagement: 100 × (0.3 presence + 0.5 activity + 0.2 variety), each capped at 1', () => {
    // The worked example of docs/analytics.md: Grace over two hours.
    assert.equal(engagementScore({ durationSeconds: 7200, connectedSeconds: 2990, activeSeconds: 240, codeChanges: 3, executions: 4, chatMessages: 2 }), 36)
    // Present all the time, active every connected minute, did all three things.
    assert.equal(engagementScore({ durationSeconds: 600, connectedSeconds: 600, activeSeconds: 600, codeChanges: 1, executions: 1, chatMessages: 1 }), 100)
    // Present all the time, nothing else.
    assert.equal(engagementScore({ durationSeconds: 600, connectedSeconds: 600, activeSeconds: 0, codeChanges: 0, executions: 0, chatMessages: 0 }), 30)
    // Half the time, active half of it, only edits: 0.3×0.5 + 0.5×0.5 + 0.2/3 = 0.4667.
    assert.equal(engagementScore({ durationSeconds: 600, connectedSeconds: 300, activeSeconds: 150, codeChanges: 4, executions: 0, chatMessages: 0 }), 47)
    assert.equal(engagementScore({ durationSeconds: 0, connectedSeconds: 0, activeSeconds: 0, codeChanges: 0, executions: 0, chatMessages: 0 }), 0)
  })

  it('rebuilds connections from joins and leaves; a lost leave ends at the last activity', () => {
    const events = [
      { userId: 'a', kind: 'join' as const, at: 0, conn: 'c1' },
      { userId: 'b', kind: 'join' as const, at: 10, conn: 'c2' },
      { userId: 'a', kind: 'leave' as const, at: 50, conn: 'c1' },
      { userId: 'c', kind: 'join' as const, at: 20, conn: 'c3' },
      { userId: 'c', kind: 'join' as const, at: 200, conn: 'c4' },
    ]
    const out = connectionIntervals(events, new Set(['c2', 'c4']), 300, new Map([['c', 90]]))
    assert.deepEqual(out.get('a'), { intervals: [[0, 50]], liveSince: null })
    assert.deepEqual(out.get('b'), { intervals: [[10, 300]], liveSince: 10 })
    // c3 died without a leave: it counts up to c's last activity (90), before the next join.
    assert.deepEqual(out.get('c'), { intervals: [[200, 300], [20, 90]], liveSince: 200 })
  })

  it('computes the session figures and a trend summed into wider steps for long ranges', () => {
    const person = (p: Partial<ParticipantFacts> & Pick<ParticipantFacts, 'userId' | 'joinSeq'>): ParticipantFacts => ({
      name: p.userId,
      role: 'learner',
      codeChanges: 0,
      charsInserted: 0,
      charsDeleted: 0,
      executions: 0,
      chatMessages: 0,
      activeMinutes: 0,
      connections: [],
      online: false,
      lastActivityAt: null,
      connectedSince: null,
      recentRuns: [],
      ...p,
    })
    const end = T0 + 3 * 24 * 60 * M
    const facts: AnalyticsFacts = {
      range: 'all',
      end,
      sessionStart: T0,
      participants: [
        person({ userId: 'b', joinSeq: 2, codeChanges: 10, activeMinutes: 3, connections: [[T0, end]] }),
        person({ userId: 'a', joinSeq: 1, role: 'instructor', executions: 2, activeMinutes: 2, connections: [[T0, T0 + 60 * M]] }),
        person({ userId: 'ghost', joinSeq: 3 }),
      ],
      minutes: [
        { minute: T0, codeChanges: 4, executions: 1, activeParticipants: 2 },
        { minute: T0 + M, codeChanges: 6, executions: 1, activeParticipants: 1 },
        { minute: T0 + 3 * M, codeChanges: 0, executions: 0, activeParticipants: 1 },
      ],
      activeParticipants: 0,
      serverChanges: 2,
    }
    const res = computeAnalytics(facts)
    assert.deepEqual(
      res.participants.map((p) => p.userId),
      ['a', 'b'],
      'ordered by first join; someone with no time or activity in the range is left out',
    )
    assert.equal(res.session.participantCount, 2)
    assert.equal(res.session.codeChanges, 10)
    assert.equal(res.session.serverChanges, 2)
    assert.equal(res.session.executions, 2)
    assert.equal(res.session.peakParticipants, 2)
    assert.equal(res.session.engagementScore, res.participants[1]!.engagementScore, 'the session score averages learners only')
    // Three days: 4,321 minutes → steps of 4 minutes, at most 1,440 points.
    assert.equal(res.seriesStepMinutes, 4)
    assert.equal(res.series.length, 1081)
    assert.deepEqual(res.series[0], { minute: new Date(T0).toISOString(), codeChanges: 10, executions: 2, activeParticipants: 2 })
    assert.equal(res.series[1]!.codeChanges, 0)
  })

  it('CSV: a header, one row per person, quoting, and no spreadsheet formulas', () => {
    assert.equal(csvField('a,b'), '"a,b"')
    assert.equal(csvField('say "hi"'), '"say ""hi"""')
    assert.equal(csvField('=HYPERLINK("x")'), `"'=HYPERLINK(""x"")"`)
    assert.equal(csvField(-3), '-3')
    assert.equal(csvField(-0.5), '-0.5')
    assert.equal(csvField('Zoë Ñúñez'), 'Zoë Ñúñez')
    const res = computeAnalytics({
      range: 'all',
      end: T0 + 10 * M,
      sessionStart: T0,
      participants: [
        { userId: 'u1', name: 'Ada, Countess', role: 'learner', joinSeq: 1, codeChanges: 2, charsInserted: 5, charsDeleted: 1, executions: 0, chatMessages: 0, activeMinutes: 1, connections: [[T0, T0 + 10 * M]], online: true, lastActivityAt: null, connectedSince: T0, recentRuns: [], handsRaised: 2 },
      ],
      minutes: [],
      activeParticipants: 0,
      serverChanges: 0,
    })
    assert.equal(
      analyticsCsv(res),
      'userId,name,role,engagementScore,codeChanges,charsInserted,charsDeleted,executions,chatMessages,activeSeconds,connectedSeconds,handsRaised\r\n' + `u1,"Ada, Countess",learner,${res.participants[0]!.engagementScore},2,5,1,0,0,60,600,2\r\n`,
    )
  })

  it('CSV: a field with a separator of any locale (comma, semicolon, tab) or a line break is quoted', () => {
    assert.equal(csvField('a;b'), '"a;b"')
    assert.equal(csvField('a\tb'), '"a\tb"')
    assert.equal(csvField('a\nb'), '"a\nb"')
    assert.equal(csvField('a\rb'), '"a\rb"')
  })

  it('CSV: no formula survives, whatever separator the spreadsheet splits on', () => {
    // Formula starts behind leading whitespace or a control character.
    for (const lead of [' ', '  ', '\t', '\r', '\n', '\u00a0', '\u3000', '\ufeff']) {
      for (const f of ['=1+1', '+1+1', '-1+1', '@SUM(A1)']) {
        const out = csvField(lead + f)
        assert.ok(!/^"?\s*[=+\-@]/.test(out), `${JSON.stringify(lead + f)} → ${JSON.stringify(out)}`)
      }
    }
    assert.equal(csvField(' =1+1'), "' =1+1")
    assert.equal(csvField('\t=1+1'), `"'\t'=1+1"`)
    // Full-width signs, which some spreadsheets read as their ASCII twins.
    assert.equal(csvField('＝1+1'), "'＝1+1")
    // A spreadsheet that splits on ";" (or tabs, or lines) reads our quoted field as several cells,
    // because to it the quote is not at the start of a cell: no cell it makes may start a formula.
    const row = ['u1', 'x;=1+1;y', 'a, -2+3', 'p\t@SUM(A1)', 'l1\n+1', 'q;"=1"'].map(csvField).join(',')
    for (const cells of [row.split(';'), row.split('\t'), row.split(/\r?\n/), row.split(',')]) {
      for (const cell of cells) assert.ok(!/^[\s"]*[=+\-@＝＋－＠]/.test(cell), `cell ${JSON.stringify(cell)} of ${JSON.stringify(row)}`)
    }
    assert.equal(csvField('x;=1+1;y'), `"x;'=1+1;y"`)
  })
})

describe('needs attention', () => {
  const now = T0 + 60 * M
  const iso = (ms: number) => new Date(ms).toISOString()
  const learner = (userId: string, o: Partial<Parameters<typeof needsAttention>[0][number]> = {}) => ({
    userId,
    name: userId,
    role: 'learner' as const,
    online: true,
    lastActivityAt: iso(now - M),
    connectedSince: iso(now - 30 * M),
    recentRuns: [] as boolean[],
    ...o,
  })

  it('lists learners whose last runs all failed, with the reason', () => {
    const out = needsAttention([learner('a', { recentRuns: [false, false, false, true] }), learner('b', { recentRuns: [false, true, false] }), learner('c', { recentRuns: [false, false] })], { now })
    assert.deepEqual(out, [{ userId: 'a', name: 'a', reasons: [{ kind: 'failing-runs', runs: 3, message: 'Their last 3 runs failed.' }] }])
    assert.equal(needsAttention([learner('c', { recentRuns: [false, false] })], { now, failingRuns: 2 }).length, 1, 'the threshold is an option')
  })

  it('lists learners idle for a while when the room is active, but not when everyone is quiet', () => {
    const idle = learner('quiet', { lastActivityAt: iso(now - 12 * M) })
    const out = needsAttention([learner('busy'), idle], { now, idleMinutes: 10 })
    assert.deepEqual(out, [{ userId: 'quiet', name: 'quiet', reasons: [{ kind: 'idle', minutes: 12, message: 'No edits, runs or messages for 12 minutes while the room is active.' }] }])
    assert.deepEqual(needsAttention([learner('busy', { lastActivityAt: iso(now - 20 * M) }), idle], { now, idleMinutes: 10 }), [], 'the whole room is quiet (a lecture, say)')
    assert.deepEqual(needsAttention([learner('busy'), learner('new', { lastActivityAt: null, connectedSince: iso(now - 2 * M) })], { now }), [], 'someone who just joined is not idle yet')
    assert.deepEqual(needsAttention([learner('busy'), { ...idle, online: false }], { now, idleMinutes: 10 }), [], 'not while away')
  })

  it('never lists instructors or observers', () => {
    const out = needsAttention(
      [learner('busy'), learner('t', { role: 'instructor' as never, recentRuns: [false, false, false], lastActivityAt: iso(now - 30 * M) }), learner('o', { role: 'observer' as never, lastActivityAt: null })],
      { now },
    )
    assert.deepEqual(out, [])
  })
})
