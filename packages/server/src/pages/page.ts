import { html, raw } from 'hono/html'
import { ICON_DATA_URL } from './icon.js'

/** Every page's head: its title, the icon, the styles and, once built, the elements. */
export function pageHead(title: string, built: boolean) {
  return html`<head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>Session Kit — ${title}</title>
    <link rel="icon" href="${ICON_DATA_URL}" />
    <link rel="stylesheet" href="/demo/demo.css" />
    ${built ? raw('<script type="module" src="/cdn/session-kit.js"></script>') : ''}
  </head>`
}

/** A production page: its head around `body`, in a `<main>` of the given class. */
export function page(title: string, built: boolean, body: unknown, mainClass = 'invite') {
  return html`<!doctype html>
<html lang="en">
  ${pageHead(title, built)}
  <body>
    <main class="${mainClass}">
      ${body}
    </main>
  </body>
</html>`
}

/** The default landing page of invitation links: a room that asks to accept, then opens. */
export function invitePage(opts: { origin: string; built: boolean }) {
  return page(
    'invitation',
    opts.built,
    html`${opts.built ? '' : raw('<p class="warning" role="alert">The elements are not built yet: run <code>npm run build</code>, then reload.</p>')}
      <session-room server="${opts.origin}">
        <session-editor></session-editor>
        <session-runner></session-runner>
        <session-chat></session-chat>
      </session-room>`,
  )
}

/** The share link of a public recording. */
export function playerPage(opts: { origin: string; recording: string; built: boolean }) {
  return page('recording', opts.built, html`<session-player server="${opts.origin}" recording="${opts.recording}"></session-player>`)
}
