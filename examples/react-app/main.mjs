// A small React app using the wrappers, bundled by the test with Rollup (as a host's bundler would).
import React from 'react'
import ReactDOMClient from 'react-dom/client'
import { SessionEditor, SessionGate, SessionRunner } from '@session-kit/react'
import { configureRunner } from '@session-kit/elements'

// The runner's sandbox page, copied to the app's static files (`@session-kit/elements/runner-frame.html`).
configureRunner({ frameUrl: '/static/runner-frame.html' })

function App() {
  const [runs, setRuns] = React.useState([])
  return React.createElement(
    'main',
    null,
    React.createElement('h1', null, 'React playground'),
    React.createElement(SessionEditor, { id: 'react-editor', language: 'javascript' }, 'console.log(6 * 7)'),
    // `timeout` is the run's time limit in seconds: an endless loop is stopped after 3.
    React.createElement(SessionRunner, { for: 'react-editor', timeout: 3, onSessionRun: (e) => setRuns((r) => [...r, e.result.ok ? 'ok' : 'failed']) }),
    React.createElement('p', { id: 'runs' }, `Runs seen by React: ${runs.join(', ') || 'none'}`),
    React.createElement(SessionGate, { roles: 'instructor' }, 'Only instructors see this.'),
  )
}

ReactDOMClient.createRoot(document.getElementById('app')).render(React.createElement(App))
