import { html, raw } from 'hono/html'
import { pageHead } from '../pages/page.js'

interface Person {
  role: string
  name: string
  token: string
}

/** The demo page: three columns, one per role, each a full room with an editor. */
interface OutboxMail {
  to: string
  subject: string
  link: string | null
  createdAt: Date
}

export function demoPage(opts: { origin: string; session: string; people: Person[]; built: boolean; outbox: OutboxMail[] }) {
  const column = (p: Person) => html`
    <section class="column" aria-labelledby="h-${p.role}">
      <h2 id="h-${p.role}"><span class="badge ${p.role}">${p.role}</span> ${p.name}</h2>
      <session-room server="${opts.origin}" session="${opts.session}" token="${p.token}" data-role="${p.role}">
        <session-editor file="main.js"></session-editor>
        <session-runner file="main.js"></session-runner>
        <details class="people python"><summary>Python: greet.py</summary><session-editor file="greet.py"></session-editor><session-runner file="greet.py"></session-runner></details>
        <session-chat></session-chat>
        <details class="people" ${p.role === 'instructor' ? raw('open') : ''}>
          <summary>${p.role === 'instructor' ? 'Moderation' : 'People'}</summary>
          ${p.role === 'instructor' ? raw('<session-moderation></session-moderation>') : raw('<session-participants></session-participants>')}
        </details>
        ${p.role === 'instructor' ? raw('<details class="people"><summary>Invitations</summary><session-invitations></session-invitations></details>') : ''}
        <details class="people"><summary>Snapshots</summary><session-snapshots></session-snapshots></details>
        <details class="people"><summary>Recordings</summary><session-recording></session-recording></details>
        <details class="people"><summary>${p.role === 'instructor' ? 'Analytics' : 'My activity'}</summary><session-analytics></session-analytics></details>
      </session-room>
    </section>`
  return html`<!doctype html>
<html lang="en">
  ${pageHead('demo room', opts.built)}
  <body>
    <header>
      <h1>Session Kit demo</h1>
      <p>One room, <code>${opts.session}</code>, open three times. Type as the instructor or the learner: the other panes follow live; the observer can watch but not type. Run the code (Ctrl+Enter), chat, and use the instructor's moderation panel — mute the learner, change roles, lock learner editing — to see every pane follow at once.</p>
      <p>Lecture mode is in every room: the instructor's <strong>Follow me</strong> brings everyone's editor to their file and cursor, anyone can <strong>Raise hand</strong> (the instructor's People panel lists the queue), and the instructor can <strong>Spotlight</strong> one person's code for everyone. For a room per learner and the instructor's overview of all of them, open <a href="/demo-assignment">the demo assignment</a>.</p>
      ${opts.built ? '' : raw('<p class="warning" role="alert">The elements are not built yet: run <code>npm run build</code>, then reload.</p>')}
    </header>
    <main class="columns">${opts.people.map(column)}</main>
    <section class="outbox" aria-labelledby="outbox-title">
      <h2 id="outbox-title">Outbox</h2>
      <p>Without <code>SMTP_URL</code>, this room's invitation mail is kept here (and in the server log). Invite someone from the instructor's pane, reload, and open the link in another browser profile.</p>
      ${opts.outbox.length
        ? html`<ul>${opts.outbox.map((m) => html`<li><strong>${m.to}</strong> — ${m.subject}${m.link ? html` — <a href="${m.link}">${m.link}</a>` : ''}</li>`)}</ul>`
        : html`<p><em>No mail yet.</em></p>`}
    </section>
    <details>
      <summary>Tokens on this page</summary>
      <p>Each pane holds a token signed with this server's secret, as a host backend would mint it (<code>npx session-kit-server token --session ${opts.session} --role learner --user u1 --name "Demo Learner"</code>).</p>
      <dl class="tokens">${opts.people.map((p) => html`<dt>${p.role}</dt><dd><code>${p.token}</code></dd>`)}</dl>
    </details>
  </body>
</html>`
}

/** The demo assignment: each learner's own room (their page), and the instructor's overview of every room. */
export function demoAssignmentPage(opts: { origin: string; assignment: string; people: Person[]; built: boolean }) {
  const column = (p: Person) => html`
    <section class="column" aria-labelledby="h-${p.token.slice(-12)}">
      <h2 id="h-${p.token.slice(-12)}"><span class="badge ${p.role}">${p.role}</span> ${p.name}</h2>
      ${p.role === 'instructor'
        ? html`<session-classroom server="${opts.origin}" assignment="${opts.assignment}" token="${p.token}"></session-classroom>`
        : html`<session-assignment server="${opts.origin}" assignment="${opts.assignment}" token="${p.token}"></session-assignment>`}
    </section>`
  return html`<!doctype html>
<html lang="en">
  ${pageHead('demo assignment', opts.built)}
  <body>
    <header>
      <h1>Session Kit demo: an assignment</h1>
      <p>The assignment <code>${opts.assignment}</code>: each learner opening it gets a room of their own, made from the starter files. Type as Grace or Alan; the instructor's overview shows both rooms live, with who is online, their latest verified test result and who has submitted. <strong>Open</strong> drops the instructor into a learner's room. <a href="/">Back to the shared room</a>.</p>
      ${opts.built ? '' : raw('<p class="warning" role="alert">The elements are not built yet: run <code>npm run build</code>, then reload.</p>')}
    </header>
    <main class="columns">${opts.people.map(column)}</main>
  </body>
</html>`
}
