import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import React from 'react'
import { renderToString } from 'react-dom/server'
import { SessionEditor, SessionGate, SessionRoom, SessionSnapshots } from '@session-kit/react'
import type { SessionBeforeRestoreEvent, SessionStatusEvent } from '@session-kit/elements'

const root = fileURLToPath(new URL('..', import.meta.url))

describe('@session-kit/react', () => {
  it('is generated from the elements manifest and up to date, one component per element', () => {
    const elements = readdirSync(join(root, 'packages/elements/src/define')).filter((f) => f.endsWith('.ts')).length
    assert.ok(elements >= 14, `${elements} elements`)
    assert.match(execFileSync(process.execPath, ['scripts/react-wrappers.mjs', '--check'], { cwd: root, encoding: 'utf8' }), new RegExp(`up to date \\(${elements} components\\)`))
  })

  it('renders on the server (as plain tags: props are set in the browser); events are typed onSession… props', () => {
    const onStatus = (e: SessionStatusEvent) => e.status
    const onBeforeRestore = (e: SessionBeforeRestoreEvent) => e.preventDefault()
    const html = renderToString(
      React.createElement(
        SessionRoom,
        { server: 'https://rooms.example.edu', session: 'intro-101', token: 't', onSessionStatus: onStatus },
        React.createElement(SessionEditor, { file: 'main.js' }),
        React.createElement(SessionGate, { roles: 'instructor' }, React.createElement(SessionSnapshots, { onSessionBeforeRestore: onBeforeRestore })),
      ),
    )
    assert.equal(html, '<session-room><session-editor></session-editor><session-gate><session-snapshots></session-snapshots></session-gate></session-room>')
  })
})
