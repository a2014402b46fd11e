// The demo's one piece of page script: the instructor's lock / unlock button, calling the
// documented HTTP route with the instructor's own room token.
const room = document.querySelector('session-room[data-role="instructor"]')
const button = document.getElementById('lock')
const status = document.getElementById('lock-status')

function render() {
  const locked = Boolean(room.sessionInfo?.editingLocked)
  button.textContent = locked ? 'Unlock learner editing' : 'Lock learner editing'
  button.setAttribute('aria-pressed', String(locked))
  button.disabled = room.status !== 'live'
}

room.addEventListener('session-status', render)
room.addEventListener('session-permissions-changed', render)
button.addEventListener('click', async () => {
  const locked = Boolean(room.sessionInfo?.editingLocked)
  button.disabled = true
  status.textContent = ''
  try {
    const res = await fetch(`${room.server}/v1/sessions/${room.session}/${locked ? 'unlock' : 'lock'}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${room.token}` },
    })
    if (!res.ok) status.textContent = (await res.json()).error?.message ?? `Failed (${res.status})`
  } catch {
    status.textContent = 'The server could not be reached.'
  } finally {
    render()
  }
})
render()
