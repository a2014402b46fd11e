import { expect } from '@open-wc/testing'
import { errorMessage } from './http.js'

const json = (body: unknown, status = 200) => new Response(typeof body === 'string' ? body : JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } })

describe('reading the API’s refusals', () => {
  it('gives the server’s sentence, or the status when the answer is not an error body', async () => {
    expect(await errorMessage(json({ error: { code: 'forbidden', message: 'Only instructors can see who is banned.' } }, 403))).to.equal('Only instructors can see who is banned.')
    expect(await errorMessage(json({ error: 'nope' }, 400))).to.equal('the server answered 400')
    expect(await errorMessage(json('<html>Bad gateway</html>', 502))).to.equal('the server answered 502')
  })
})
