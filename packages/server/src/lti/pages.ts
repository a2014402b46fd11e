import { html, raw } from 'hono/html'
import { page as basePage } from '../pages/page.js'
import type { ServerConfig } from '../config.js'
import type { PlatformRow } from '../store/lti.js'
import type { Opened } from './open.js'

/*
 * The pages of an LTI launch, shown inside the LMS's frame: never a blank frame or a bare error.
 * Scripts are files (/lti/assets/lti.js), never inline: the pages keep the server's strict policy.
 * What a script needs is in a JSON block it reads and removes.
 */

/**
 * Who may frame an LTI page: anyone when the host lists no origins; else the host's origins and
 * the LMS's own (its issuer and sign-in addresses), which frame the tool by definition.
 */
export function ltiFrameAncestors(config: Pick<ServerConfig, 'allowedOrigins'>, platform?: Pick<PlatformRow, 'issuer' | 'authUrl'>): string {
  if (!config.allowedOrigins.length) return '*'
  const origins = new Set<string>(["'self'", ...config.allowedOrigins])
  for (const u of platform ? [platform.issuer, platform.authUrl] : []) {
    try {
      origins.add(new URL(u).origin)
    } catch {}
  }
  return [...origins].join(' ')
}

/** JSON for a `<script type="application/json">` block: nothing in it can end the block. */
function jsonBlock(data: unknown) {
  const json = JSON.stringify(data).replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026')
  return raw(`<script type="application/json" id="session-kit-lti">${json}</script><script type="module" src="/lti/assets/lti.js"></script>`)
}

function page(title: string, built: boolean, body: unknown, opts: { wide?: boolean } = {}) {
  return basePage(title, built, body, opts.wide ? 'lti lti-wide' : 'lti')
}

/** Login through the platform's storage: keep our secret there, then go to the LMS's sign-in. */
export function storagePage(data: { target: string; origin: string; key: string; value: string; next: string }) {
  return page(
    'signing in',
    false,
    html`<p class="lti-status" role="status">Signing you in through your course…</p>
      <noscript><p class="warning">Session Kit needs JavaScript to open inside your course.</p></noscript>
      ${jsonBlock({ mode: 'put', ...data })}`,
  )
}

/** A launch waiting for the platform's storage to show the secret this browser kept at sign-in. */
export function confirmPage(data: { target: string; origin: string; key: string; state: string }) {
  return page(
    'opening',
    false,
    html`<p class="lti-status" role="status">Opening Session Kit…</p>
      <form method="post" action="/lti/launch/confirm" id="session-kit-confirm">
        <input type="hidden" name="state" value="${data.state}" />
        <input type="hidden" name="binding" value="" />
        <noscript><p class="warning">Session Kit needs JavaScript to open inside your course.</p></noscript>
      </form>
      ${jsonBlock({ mode: 'get', ...data })}`,
  )
}

/** The browser kept nothing of the sign-in (third-party cookies blocked, no platform storage): open in a window of its own. */
export function newWindowPage(opts: { loginUrl: string }) {
  return page(
    'open in a new window',
    false,
    html`<section class="lti-card" aria-labelledby="lti-title">
      <h1 id="lti-title">Open Session Kit in a new window</h1>
      <p>Your browser blocks the cookie Session Kit needs inside this course page (it blocks third-party cookies), and your course site did not offer another way to keep the sign-in.</p>
      <p>In a window of its own it works: your course signs you in again there, with the same name and role.</p>
      <p><a class="lti-button" href="${opts.loginUrl}" target="_blank" rel="noopener">Open in a new window</a></p>
    </section>`,
  )
}

/** A launch that could not be accepted: what went wrong, in words, and what to do. */
export function launchErrorPage(err: { code: string; message: string; status: number }) {
  const retry = err.status >= 500 ? 'Try again in a moment; if it keeps failing, tell your course administrator.' : 'Open the activity again from your course. If it keeps failing, tell your course administrator what this page says.'
  return page(
    'could not open',
    false,
    html`<section class="lti-card" role="alert" aria-labelledby="lti-title">
      <h1 id="lti-title">Session Kit could not open this activity</h1>
      <p>${err.message}</p>
      <p>${retry}</p>
      <p class="lti-code">Error code: <code>${err.code}</code></p>
    </section>`,
  )
}

/** What a launch opens: the room, the learner's assignment, or the class overview. */
export function launchPage(opts: { origin: string; built: boolean; opened: Opened; userId: string }) {
  const { opened, origin } = opts
  const instructor = opened.role === 'instructor'
  let body
  if (opened.kind === 'assignment') {
    body = instructor
      ? html`<session-classroom server="${origin}" assignment="${opened.assignmentId}"></session-classroom>`
      : html`<session-assignment server="${origin}" assignment="${opened.assignmentId}"></session-assignment>`
  } else {
    body = html`<session-room server="${origin}" session="${opened.sessionId}">
        <session-editor></session-editor>
        <session-runner></session-runner>
        <div class="lti-side">
          ${instructor ? raw('<session-moderation></session-moderation>') : raw('<session-participants></session-participants>')}
          <session-chat></session-chat>
          ${instructor ? raw('<details class="people"><summary>Invitations</summary><session-invitations></session-invitations></details>') : ''}
          <details class="people"><summary>Snapshots</summary><session-snapshots></session-snapshots></details>
          <details class="people"><summary>Recordings</summary><session-recording></session-recording></details>
          <details class="people"><summary>${instructor ? 'Analytics' : 'My activity'}</summary><session-analytics></session-analytics></details>
        </div>
      </session-room>`
  }
  return page(
    opened.title,
    opts.built,
    html`<h1 class="lti-heading">${opened.title}</h1>
      ${opts.built ? '' : raw('<p class="warning" role="alert">The elements are not built yet: run <code>npm run build</code>, then reload.</p>')}
      ${body}
      ${jsonBlock({ mode: 'launch', kind: opened.kind, token: opened.token, role: opened.role, userId: opts.userId })}`,
    { wide: true },
  )
}
