import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { oneBackend } from '../testing/db.js'
import { startTestServer, type TestServer } from '../testing/server.js'
import { Mailer, type Mail } from './mailer.js'

const mail = (link: string): Mail => ({ to: 'grace@example.edu', subject: 'Ada invited you to “Intro”', text: `Open ${link}`, html: `<a href="${link}">join</a>`, link })

for (const backend of [oneBackend()]) {
  describe(`mail without SMTP on ${backend}`, () => {
    let s: TestServer
    before(async () => {
      s = await startTestServer(backend)
    })
    after(() => s.stop())

    it('in development the log line carries the link, for whoever runs the server', async () => {
      const logs: string[] = []
      const link = 'http://localhost:8787/invite?invite=dev-link-token'
      await new Mailer(s.db.sql, { from: 'x@example.edu', log: (m) => logs.push(m), production: false }).send(mail(link))
      assert.ok(logs.some((l) => l.includes(link)), logs.join('\n'))
    })

    it('in production the log names the recipient and subject, and says the link is in the outbox table, without it', async () => {
      const logs: string[] = []
      const link = 'https://rooms.example.edu/invite?invite=prod-link-token'
      const sent = await new Mailer(s.db.sql, { from: 'x@example.edu', log: (m) => logs.push(m), production: true }).send(mail(link))
      assert.equal(logs.length, 1)
      assert.ok(!logs[0]!.includes('prod-link-token'), `no invitation link in the log: ${logs[0]}`)
      assert.match(logs[0]!, /grace@example\.edu/)
      assert.match(logs[0]!, /Ada invited you to “Intro”/)
      assert.match(logs[0]!, /outbox/)
      const [row] = await s.db.sql<{ link: string }[]>`select link from outbox where id = ${sent.id}`
      assert.equal(row?.link, link, 'the outbox keeps it')
    })
  })
}
