import { html, raw } from 'hono/html'
import { ICON_DATA_URL } from './icon.js'

/** The default landing page of invitation links: a room that asks to accept, then opens. */
export function invitePage(opts: { origin: string; built: boolean }) {
  return html`<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>Session Kit — invitation</title>
    <link rel="icon" href="${ICON_DATA_URL}" />
    <link rel="stylesheet" href="/demo/demo.css" />
    ${opts.built ? raw('<script type="module" src="/cdn/session-kit.js"></script>') : ''}
  </head>
  <body>
    <main class="invite">
      ${opts.built ? '' : raw('<p class="warning" role="alert">The elements are not built yet: run <code>npm run build</code>, then reload.</p>')}
      <session-room server="${opts.origin}">
        <session-editor></session-editor>
        <session-runner></session-runner>
        <session-chat></session-chat>
      </session-room>
    </main>
  </body>
</html>`
}

/** The share link of a public recording. */
export function playerPage(opts: { origin: string; recording: string; built: boolean }) {
  return html`<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>Session Kit — recording</title>
    <link rel="icon" href="${ICON_DATA_URL}" />
    <link rel="stylesheet" href="/demo/demo.css" />
    ${opts.built ? raw('<script type="module" src="/cdn/session-kit.js"></script>') : ''}
  </head>
  <body>
    <main class="invite">
      <session-player server="${opts.origin}" recording="${opts.recording}"></session-player>
    </main>
  </body>
</html>`
}
