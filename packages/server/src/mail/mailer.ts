import nodemailer, { type Transporter } from 'nodemailer'
import type { Sql } from '../store/db.js'
import { insertOutbox, markOutboxFailed, markOutboxSent } from '../store/outbox.js'

export interface Mail {
  to: string
  subject: string
  text: string
  html: string
  /** The link the mail carries (shown in the log line when there is no SMTP server). */
  link?: string
  sessionId?: string
}

/**
 * Sends mail with nodemailer over SMTP_URL. Every mail is also written to the outbox table (the
 * delivery log, with `sent_at` or `error`); without SMTP the outbox and a log line carrying the link
 * are the delivery, which is what development and the demo use. In production the log line leaves
 * the link out: an invitation link lets whoever holds it into the session, and logs travel further
 * than the database.
 */
export class Mailer {
  readonly #transport?: Transporter

  constructor(
    private readonly sql: Sql,
    private readonly opts: {
      smtpUrl?: string
      from: string
      log: (msg: string) => void
      /** Keep links out of the log (default: NODE_ENV=production in this process). */
      production?: boolean
    },
  ) {
    if (opts.smtpUrl) this.#transport = nodemailer.createTransport(opts.smtpUrl)
  }

  get smtp(): boolean {
    return Boolean(this.#transport)
  }

  async send(mail: Mail): Promise<{ id: number; delivered: boolean; error?: string }> {
    const id = await insertOutbox(this.sql, mail)
    if (!this.#transport) {
      const production = this.opts.production ?? process.env.NODE_ENV === 'production'
      const link = !mail.link ? '' : production ? ` — its link is in the outbox table (id ${id}), not in this log` : ` — ${mail.link}`
      this.opts.log(`mail (no SMTP_URL; kept in the outbox) to ${mail.to}: ${mail.subject}${link}`)
      return { id, delivered: false }
    }
    try {
      await this.#transport.sendMail({ from: this.opts.from, to: mail.to, subject: mail.subject, text: mail.text, html: mail.html })
      await markOutboxSent(this.sql, id)
      return { id, delivered: true }
    } catch (e) {
      const error = (e as Error).message
      await markOutboxFailed(this.sql, id, error)
      this.opts.log(`mail to ${mail.to} failed: ${error}`)
      return { id, delivered: false, error }
    }
  }

  close() {
    this.#transport?.close()
  }
}
