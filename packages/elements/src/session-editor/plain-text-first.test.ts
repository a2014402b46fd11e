import { expect } from '@open-wc/testing'
import { configure } from '../configure.js'
import { createSession, freshSid, live, mountRoom, shadowText, viewOf, waitFor } from '../test-support/room.js'

// Each test file runs in its own page: here the wasm is served two seconds late.
configure({ wasmUrl: '/__sk/slow-automerge.wasm?ms=2000' })

describe('<session-editor> before the wasm has loaded', () => {
  it('shows the code as plain text first, then becomes live', async () => {
    const sid = freshSid('plain')
    await createSession(sid, { 'main.js': 'console.log("visible early")\n' })
    const t0 = performance.now()
    const { editor } = await mountRoom(sid, 'learner', 'lea')
    await waitFor(() => viewOf(editor)?.state.doc.toString().includes('visible early') ?? false, 1800, 'plain text')
    const plainAt = performance.now() - t0
    expect(editor.shadowRoot!.querySelector('.editor.plain')).to.not.equal(null)
    expect(viewOf(editor)!.state.readOnly).to.equal(true)
    expect(shadowText(editor, '[part=save-state]')).to.contain('Loading live editor')
    const view = await live(editor)
    const liveAt = performance.now() - t0
    expect(plainAt).to.be.lessThan(liveAt)
    expect(view.state.readOnly).to.equal(false)
    expect(view.state.doc.toString()).to.equal('console.log("visible early")\n')
  })
})
