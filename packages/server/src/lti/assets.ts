/**
 * The script of the launch pages (/lti/assets/lti.js): platform storage over postMessage (the
 * LTI client-side OIDC messages `lti.put_data` and `lti.get_data`), and handing the launch's token
 * to the elements. Its data comes from the page's JSON block.
 */
export const LTI_SCRIPT = `// Session Kit: LTI launch pages.
const block = document.getElementById('session-kit-lti')
const data = JSON.parse(block.textContent)
block.remove()

// The frame that keeps data for tools: the one the LMS named (Canvas: post_message_forwarding), else the LMS's page itself.
function storageFrame(target) {
  if (window.parent === window) return null
  try {
    if (target && target !== '_parent' && window.parent.frames[target]) return window.parent.frames[target]
  } catch {}
  return window.parent
}

// One request to the platform's storage; its answer, or null when none comes in time (no platform storage).
function ask(message, timeoutMs = 3000) {
  const frame = storageFrame(data.target)
  if (!frame) return Promise.resolve(null)
  const id = 'sk-' + Math.random().toString(36).slice(2) + Date.now().toString(36)
  return new Promise((resolve) => {
    const done = (answer) => {
      window.removeEventListener('message', listen)
      clearTimeout(timer)
      resolve(answer)
    }
    const listen = (event) => {
      if (event.origin !== data.origin) return
      const m = event.data
      if (!m || typeof m !== 'object' || m.message_id !== id || m.subject !== message.subject + '.response') return
      done(m.error ? null : m)
    }
    const timer = setTimeout(() => done(null), timeoutMs)
    window.addEventListener('message', listen)
    try {
      frame.postMessage({ ...message, message_id: id }, data.origin)
    } catch {
      done(null)
    }
  })
}

if (data.mode === 'put') {
  // Whatever the answer, go on: a cookie was set too, for browsers that keep it.
  await ask({ subject: 'lti.put_data', key: data.key, value: data.value })
  location.replace(data.next)
} else if (data.mode === 'get') {
  const answer = await ask({ subject: 'lti.get_data', key: data.key })
  const form = document.getElementById('session-kit-confirm')
  form.elements.binding.value = answer && typeof answer.value === 'string' ? answer.value : ''
  form.submit()
} else if (data.mode === 'submit') {
  // The signed answer goes back to the LMS (the button does the same without this script).
  document.getElementById('session-kit-return').submit()
} else if (data.mode === 'close') {
  // Dynamic registration is done: the LMS closes the window or frame it opened (LTI Dynamic Registration 1.0).
  // With a Close button on the page, when the person has read it.
  const close = () => (window.opener || window.parent).postMessage({ subject: 'org.imsglobal.lti.close' }, '*')
  const button = document.getElementById('session-kit-close')
  if (button) button.addEventListener('click', close)
  else close()
} else if (data.mode === 'launch') {
  let token = data.token
  const el = document.querySelector('session-room, session-assignment, session-classroom')
  if (el) {
    if (el.localName === 'session-room') {
      // The launch's token is renewed by this server before it expires, for as long as the page is open.
      el.tokenProvider = async () => {
        const res = await fetch('/v1/tokens/refresh', { method: 'POST', headers: { authorization: 'Bearer ' + token } }).catch(() => null)
        if (!res || !res.ok) return undefined
        token = (await res.json()).token
        return token
      }
    }
    el.token = token
  }
}
`
