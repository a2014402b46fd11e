import type { Role } from '@session-kit/core'
import type { Mail } from './mailer.js'

const escape = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!)

const ROLE_WORDS: Record<Role, string> = {
  instructor: 'an instructor (you can edit, run, record and moderate)',
  learner: 'a learner (you can edit and run the code)',
  observer: 'an observer (you can follow the code and the chat)',
}

/** The invitation mail: a plain-text and an HTML part with the session, inviter, role, expiry and link. */
export function invitationMail(i: { to: string; sessionId: string; sessionTitle: string; inviterName: string; role: Role; expiresAt: Date; link: string }): Mail {
  const expires = i.expiresAt.toUTCString().replace('GMT', 'UTC')
  const subject = `${i.inviterName} invited you to “${i.sessionTitle}”`
  const text = [
    `${i.inviterName} invited you to join “${i.sessionTitle}”, a live coding session, as ${ROLE_WORDS[i.role]}.`,
    '',
    `Open this link to join:`,
    i.link,
    '',
    `The link works once and expires on ${expires}. If you were not expecting this, ignore this mail.`,
  ].join('\n')
  const html = `<!doctype html><html><body style="font-family:system-ui,sans-serif;line-height:1.5;color:#1f2328">
<p>${escape(i.inviterName)} invited you to join <strong>${escape(i.sessionTitle)}</strong>, a live coding session, as ${escape(ROLE_WORDS[i.role])}.</p>
<p><a href="${escape(i.link)}" style="display:inline-block;padding:.5rem 1rem;background:#6d28d9;color:#fff;border-radius:6px;text-decoration:none">Join the session</a></p>
<p style="color:#59636e;font-size:.9rem">Or open this link: <a href="${escape(i.link)}">${escape(i.link)}</a><br>It works once and expires on ${escape(expires)}. If you were not expecting this, ignore this mail.</p>
</body></html>`
  return { to: i.to, subject, text, html, link: i.link, sessionId: i.sessionId }
}
