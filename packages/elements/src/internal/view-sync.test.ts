import { expect } from '@open-wc/testing'
import type { TextSplice } from '../text-source.js'
import { ViewSync } from './view-sync.js'

function record(view: ViewSync) {
  const events: string[] = []
  const splices: TextSplice[][] = []
  for (const type of ['ready', 'reset', 'text', 'splices']) {
    view.addEventListener(type, (e) => {
      events.push(type)
      if (type === 'splices') splices.push((e as CustomEvent<TextSplice[]>).detail)
    })
  }
  return { events, splices }
}

describe('ViewSync', () => {
  it('is ready with the first text, and applies each frame of splices in order', () => {
    const view = new ViewSync()
    const { events, splices } = record(view)
    expect(view.synced).to.equal(false)
    view.load({ 'main.js': 'let a = 1\n', 'b.js': '' }, ['h1'])
    expect(view.synced).to.equal(true)
    expect(view.files()).to.deep.equal(['main.js', 'b.js'])
    // Each splice is against the text as the one before left it.
    const batch: TextSplice[] = [
      { file: 'main.js', index: 4, delete: 1, insert: 'total' },
      { file: 'main.js', index: 12, delete: 1, insert: '42' },
      { file: 'b.js', index: 0, delete: 0, insert: 'x' },
    ]
    view.apply(batch, ['h2'])
    expect(view.text('main.js')).to.equal('let total = 42\n')
    expect(view.text('b.js')).to.equal('x')
    expect(view.heads).to.deep.equal(['h2'])
    expect(events).to.deep.equal(['ready', 'splices'])
    expect(splices).to.deep.equal([batch])
  })

  it('counts in UTF-16 code units, as the server does', () => {
    const view = new ViewSync()
    view.load({ 'main.py': 'print("😀")' }, [])
    // The emoji is two code units: index 9 is just after it.
    view.apply([{ file: 'main.py', index: 9, delete: 0, insert: '!' }], [])
    expect(view.text('main.py')).to.equal('print("😀!")')
  })

  it('skips splices for files it does not hold and frames that come before the text', () => {
    const view = new ViewSync()
    const { events } = record(view)
    view.apply([{ file: 'main.js', index: 0, delete: 0, insert: 'early' }], ['h0'])
    view.load({ 'main.js': 'a' }, ['h1'])
    view.apply([{ file: 'hidden.js', index: 0, delete: 0, insert: 'secret' }], ['h2'])
    expect(view.text('main.js')).to.equal('a')
    expect(view.text('hidden.js')).to.equal(undefined)
    expect(events).to.deep.equal(['ready'])
  })

  it('says `text` when the whole text is sent again, and is rebuilt after a reset', () => {
    const view = new ViewSync()
    const { events } = record(view)
    view.load({ 'main.js': 'a' }, ['h1'])
    view.load({ 'main.js': 'a', 'added.js': 'new' }, ['h2'])
    expect(view.files()).to.deep.equal(['main.js', 'added.js'])
    view.reset()
    expect(view.synced).to.equal(false)
    // What it held stays readable until the next text.
    expect(view.text('main.js')).to.equal('a')
    view.load({ 'main.js': 'b' }, ['h3'])
    expect(events).to.deep.equal(['ready', 'text', 'reset', 'ready'])
  })

  it('has no pending edits and offset cursors', async () => {
    const view = new ViewSync()
    view.load({ 'main.js': 'hello' }, [])
    expect(view.kind).to.equal('view')
    expect(view.pending).to.equal(0)
    expect(await view.cursor('main.js', 3)).to.equal(3)
    expect(await view.cursorPositions('main.js', [0, 5, '2@abc'])).to.deep.equal([0, 5, null])
  })
})
