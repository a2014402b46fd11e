import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { replayStateAt, type Replay, type ReplayEvent } from './replay.js'

function replay(): Replay {
  // Typing "abcdef" one letter per 10 ms, a file created at 35 ms, a chat at 40 ms; keyframes every 2 edits.
  const events: ReplayEvent[] = []
  const keyframes: Replay['keyframes'] = [{ index: 0, t: 0, files: { 'a.js': '' } }]
  const files: Record<string, string> = { 'a.js': '' }
  'abcdef'.split('').forEach((ch, i) => {
    events.push({ t: (i + 1) * 10, type: 'edit', userId: 'u', splices: [{ file: 'a.js', at: i, del: 0, ins: ch }] })
    files['a.js'] += ch
    if (i === 2) events.push({ t: 35, type: 'edit', userId: 'v', splices: [{ file: 'b.js', at: 0, del: 0, ins: 'x' }], created: ['b.js'] })
    if (i === 3) events.push({ t: 40, type: 'chat', userId: 'v', text: 'hi' })
    if ((i + 1) % 2 === 0) keyframes.push({ index: events.length, t: events.at(-1)!.t, files: { ...files, ...(i >= 2 ? { 'b.js': 'x' } : {}) } })
  })
  return { version: 1, recording: { id: 'r', sessionId: 's', sessionTitle: 'S', title: 'T', description: null, startedAt: '', durationMs: 60 }, files: { 'a.js': '' }, events, keyframes, participants: {} }
}

describe('seeking a replay', () => {
  const r = replay()
  it('gives the files at any moment, from the nearest keyframe', () => {
    assert.deepEqual(replayStateAt(r, 0).files, { 'a.js': '' })
    assert.deepEqual(replayStateAt(r, 25).files, { 'a.js': 'ab' })
    assert.deepEqual(replayStateAt(r, 35).files, { 'a.js': 'abc', 'b.js': 'x' })
    assert.deepEqual(replayStateAt(r, 45).files, { 'a.js': 'abcd', 'b.js': 'x' })
    assert.deepEqual(replayStateAt(r, 1e9).files, { 'a.js': 'abcdef', 'b.js': 'x' })
  })
  it('counts the events included, for playback to continue from', () => {
    assert.equal(replayStateAt(r, 40).index, 6)
    assert.equal(replayStateAt(r, 9).index, 0)
  })
  it('agrees with applying every event from the start, at every moment', () => {
    for (let t = 0; t <= 70; t++) {
      let files: Record<string, string> = { ...r.files }
      for (const e of r.events) if (e.t <= t) files = replayStateAt({ ...r, keyframes: [r.keyframes[0]!] }, t).files
      assert.deepEqual(replayStateAt(r, t).files, files, `t=${t}`)
    }
  })
})
