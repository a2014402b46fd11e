import { expect, fixture } from '@open-wc/testing'
import { html, LitElement } from 'lit'
import { BusyController } from './busy-controller.js'
import { listenToLiveRegions } from '../test-support/live-regions.js'

class BusyHost extends LitElement {
  readonly busy = new BusyController(this)
  override render() {
    return this.busy.region()
  }
}
customElements.define('busy-host-test', BusyHost)

describe('BusyController', () => {
  it('says the same words twice when told twice (a link copied again)', async () => {
    const el = await fixture<BusyHost>(html`<busy-host-test></busy-host-test>`)
    const heard = listenToLiveRegions(el)
    for (const text of ['Link for a@example.org copied.', 'Link for a@example.org copied.', 'Link for b@example.org copied.']) {
      el.busy.announce(text)
      await el.updateComplete
    }
    expect(heard.take()).to.deep.equal(['Link for a@example.org copied.', 'Link for a@example.org copied.', 'Link for b@example.org copied.'])
  })
})
