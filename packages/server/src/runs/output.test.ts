import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { collectOutput, OutputCap, type OutputChunk } from './output.js'

function capture(maxCharacters?: number, maxLines?: number) {
  const chunks: OutputChunk[] = []
  const told: number[] = []
  const cap = new OutputCap((stream, text) => chunks.push({ stream, text }), (lines) => told.push(lines), maxCharacters, maxLines)
  return { cap, chunks, told, shown: () => collectOutput(chunks, cap.dropped) }
}

describe('OutputCap: what a run printed, within bounds', () => {
  it('keeps everything under the limits, streams apart and in order', () => {
    const { cap, shown } = capture()
    cap.write('stdout', 'a\n')
    cap.write('stdout', 'b')
    cap.write('stdout', 'c\n')
    cap.write('stderr', 'oops\n')
    cap.write('stdout', 'd\n')
    assert.deepEqual(shown(), [
      { stream: 'stdout', text: 'a\nbc\n' },
      { stream: 'stderr', text: 'oops\n' },
      { stream: 'stdout', text: 'd\n' },
    ])
  })

  it('keeps the first lines and counts the ones left out, however they arrive', () => {
    const { cap, shown } = capture(64 * 1024, 200)
    cap.write('stdout', 'x\n'.repeat(150))
    for (let i = 0; i < 100; i++) cap.write('stdout', 'y\n')
    cap.write('stdout', 'tail without newline')
    const out = shown()
    assert.equal(out[0].text, 'x\n'.repeat(150) + 'y\n'.repeat(50))
    assert.deepEqual(out[1], { stream: 'stderr', text: '… 51 more lines\n' })
  })

  it('cuts a long line at the character limit and does not count its rest again', () => {
    const { cap, shown } = capture(10, 200)
    cap.write('stdout', 'abcdefghijklmnop\nsecond\n')
    assert.deepEqual(shown(), [
      { stream: 'stdout', text: 'abcdefghij' },
      { stream: 'stderr', text: '\n… 1 more line\n' },
    ])
  })

  it('tells how many lines were left out while a flood goes on, not on every write', () => {
    const { cap, told } = capture(64 * 1024, 2)
    for (let i = 0; i < 10_000; i++) cap.write('stdout', 'z\n')
    assert.ok(told.length >= 1 && told.length < 50, `told ${told.length} times`)
    assert.equal(cap.dropped, 9998)
  })
})
