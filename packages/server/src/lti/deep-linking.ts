import { randomBytes, randomUUID } from 'node:crypto'
import { Hono, type Context } from 'hono'
import { html, raw } from 'hono/html'
import { jwtVerify, SignJWT } from 'jose'
import * as v from 'valibot'
import { DEFAULT_FILE, LANGUAGES, type Language } from '@session-kit/core'
import { AppError } from '../errors.js'
import type { AppEnv } from '../http/context.js'
import { parse } from '../http/validate.js'
import { page as basePage } from '../pages/page.js'
import { pageHeaders } from '../pages/routes.js'
import { checkFiles, CreateAssignment } from '../routes/assignments.js'
import { createAssignment } from '../store/assignments.js'
import { allowAssignmentFor, getPlatform } from '../store/lti.js'
import { CLAIM, LaunchError, type Launch } from './launch.js'
import { CUSTOM } from './open.js'
import { launchErrorPage, ltiFrameAncestors } from './pages.js'

/*
 * Deep Linking 2.0: a teacher adding Session Kit to a course picks a live room or an assignment
 * here, and we answer the LMS with a signed LtiDeepLinkingResponse holding one ltiResourceLink
 * (and a line item for an assignment with tests, so its grades have a column).
 */

/** What the picker's form carries between the launch and its answer: signed by this server. */
interface PickerContext {
  platformId: string
  deploymentId: string
  returnUrl: string
  data?: string
  userId: string
  mayOwn: boolean
  contextTitle?: string
}

const PICKER_TTL_S = 3600
const PURPOSE = 'lti-deep-linking'

const LANGUAGE_NAMES: Record<Language, string> = { python: 'Python', javascript: 'JavaScript', typescript: 'TypeScript', html: 'HTML', css: 'CSS' }
/** The test file a new assignment suggests, by language (named as the runner finds tests). */
const TEST_FILE: Partial<Record<Language, string>> = { python: 'test_main.py', javascript: 'main.test.js', typescript: 'main.test.ts' }

const Picked = v.object({
  request: v.string(),
  action: v.optional(v.picklist(['add', 'cancel']), 'add'),
  kind: v.optional(v.picklist(['room', 'assignment'], 'choose a live room or an assignment'), 'room'),
  title: v.optional(v.string(), ''),
  language: v.optional(v.picklist(LANGUAGES, 'choose a language'), 'python'),
  instructions: v.optional(v.string(), ''),
  starterName: v.optional(v.string(), ''),
  starter: v.optional(v.string(), ''),
  visibleName: v.optional(v.string(), ''),
  visible: v.optional(v.string(), ''),
  hiddenName: v.optional(v.string(), ''),
  hidden: v.optional(v.string(), ''),
  dueAt: v.optional(v.string(), ''),
  submitPolicy: v.optional(v.picklist(['keep-editing', 'lock']), 'keep-editing'),
})

/** The picker's due time (`2026-12-01T09:30`, UTC) as an ISO time; a value that is not one is refused. */
function dueOf(value: string): string {
  const at = new Date(/(Z|[+-]\d\d:\d\d)$/.test(value) ? value : `${value}Z`)
  if (Number.isNaN(at.getTime())) throw new AppError(400, 'validation_failed', 'The due time is not a date and time.')
  return at.toISOString()
}

/** The picker, shown to an instructor who chose Session Kit while editing the course. */
export async function deepLinkingPickerPage(c: Context<AppEnv>, launch: Launch, problem?: { message: string; values: Record<string, string> }) {
  if (launch.role.role !== 'instructor') {
    throw new LaunchError(403, 'lti_deep_linking_forbidden', 'Only instructors can add Session Kit activities to a course.')
  }
  const secret = new TextEncoder().encode(c.var.services.config.secret)
  const ctx: PickerContext = {
    platformId: launch.platformId,
    deploymentId: launch.deploymentId,
    returnUrl: launch.deepLinking!.returnUrl,
    ...(launch.deepLinking!.data ? { data: launch.deepLinking!.data } : {}),
    userId: launch.userId,
    mayOwn: launch.role.mayOwn,
    ...(launch.context?.title ? { contextTitle: launch.context.title } : {}),
  }
  const request = await new SignJWT({ ...ctx, purpose: PURPOSE }).setProtectedHeader({ alg: 'HS256' }).setIssuedAt().setExpirationTime(`${PICKER_TTL_S}s`).sign(secret)
  return pickerHtml(request, ctx, problem)
}

function pickerHtml(request: string, ctx: PickerContext, problem?: { message: string; values: Record<string, string> }) {
  const val = (k: string, d = '') => problem?.values[k] ?? d
  const lang = (val('language', 'python') as Language) in DEFAULT_FILE ? (val('language', 'python') as Language) : 'python'
  const checked = (k: string, want: string, d: string) => (val(k, d) === want ? raw('checked') : '')
  return basePage(
    'add an activity',
    false,
    html`<h1 class="lti-heading">Add Session Kit to ${ctx.contextTitle ?? 'your course'}</h1>
      ${problem ? html`<p class="warning" role="alert" id="picker-problem">${problem.message}</p>` : ''}
      <form method="post" action="/lti/deep-link" class="lti-picker" ${problem ? raw('aria-describedby="picker-problem"') : ''}>
        <input type="hidden" name="request" value="${request}" />
        <fieldset>
          <legend>What to add</legend>
          <label><input type="radio" name="kind" value="room" ${checked('kind', 'room', 'room')} /> A live room: everyone in the course codes together, with your role from the course</label>
          <label><input type="radio" name="kind" value="assignment" ${checked('kind', 'assignment', 'room')} /> An assignment: each learner gets their own room from your starter files, graded by its tests</label>
        </fieldset>
        <label>Title <input name="title" required maxlength="200" value="${val('title')}" /></label>
        <label>Language
          <select name="language">
            ${LANGUAGES.map((l) => html`<option value="${l}" ${l === lang ? raw('selected') : ''}>${LANGUAGE_NAMES[l]}</option>`)}
          </select>
        </label>
        <fieldset>
          <legend>For an assignment</legend>
          <label>Instructions (Markdown) <textarea name="instructions" rows="4">${val('instructions')}</textarea></label>
          <label>Starter file name <input name="starterName" value="${val('starterName', DEFAULT_FILE[lang])}" /></label>
          <label>Starter code <textarea name="starter" rows="6" spellcheck="false">${val('starter')}</textarea></label>
          <label>Visible test file name <input name="visibleName" value="${val('visibleName', TEST_FILE[lang] ?? '')}" /></label>
          <label>Visible tests (learners see them) <textarea name="visible" rows="5" spellcheck="false">${val('visible')}</textarea></label>
          <label>Hidden test file name <input name="hiddenName" value="${val('hiddenName', TEST_FILE[lang] ? 'hidden_' + TEST_FILE[lang] : '')}" /></label>
          <label>Hidden tests (only the server runs them; they grade) <textarea name="hidden" rows="5" spellcheck="false">${val('hidden')}</textarea></label>
          <label>Due, in UTC (optional) <input type="datetime-local" name="dueAt" value="${val('dueAt')}" /></label>
          <label>After submitting <select name="submitPolicy">
            <option value="keep-editing" ${val('submitPolicy', 'keep-editing') === 'keep-editing' ? raw('selected') : ''}>the learner may keep editing</option>
            <option value="lock" ${val('submitPolicy') === 'lock' ? raw('selected') : ''}>the room is locked</option>
          </select></label>
        </fieldset>
        <p class="lti-actions">
          <button type="submit" name="action" value="add" class="lti-button">Add to course</button>
          <button type="submit" name="action" value="cancel" formnovalidate>Cancel</button>
        </p>
      </form>`,
    'lti lti-wide',
  )
}

/** The signed answer to the LMS, posted by the browser to its deep_link_return_url. */
function returnPage(returnUrl: string, jwt: string, added: string | null) {
  return basePage(
    'returning to your course',
    false,
    html`<p class="lti-status" role="status">${added ? `Adding “${added}” to your course…` : 'Going back to your course…'}</p>
      <form method="post" action="${returnUrl}" id="session-kit-return">
        <input type="hidden" name="JWT" value="${jwt}" />
        <button type="submit" class="lti-button">Continue to your course</button>
      </form>
      ${raw('<script type="application/json" id="session-kit-lti">{"mode":"submit"}</script><script type="module" src="/lti/assets/lti.js"></script>')}`,
    'lti',
  )
}

export function deepLinkingRoutes() {
  const r = new Hono<AppEnv>()
  r.post('/deep-link', async (c) => {
    const { services } = c.var
    const { config, db, ltiKeys } = services
    pageHeaders(c, ltiFrameAncestors(config))
    const form: Record<string, string> = {}
    for (const [k, val] of Object.entries(await c.req.parseBody())) if (typeof val === 'string') form[k] = val
    let ctx: PickerContext
    try {
      const { payload } = await jwtVerify(form.request ?? '', new TextEncoder().encode(config.secret), { algorithms: ['HS256'] })
      if (payload.purpose !== PURPOSE) throw new Error('purpose')
      ctx = payload as unknown as PickerContext
    } catch {
      const err = new LaunchError(400, 'lti_deep_linking_expired', 'This form has expired or was not made by this tool: choose Session Kit again from your course.')
      return c.html(launchErrorPage(err), err.status)
    }
    const platform = await getPlatform(db.sql, ctx.platformId)
    // Shown in the LMS's frame, like the picker it answers.
    if (platform) pageHeaders(c, ltiFrameAncestors(config, platform))
    if (!platform) {
      const err = new LaunchError(403, 'lti_unknown_platform', 'The LMS this form was for is no longer registered.')
      return c.html(launchErrorPage(err), err.status)
    }
    let picked: v.InferOutput<typeof Picked>
    let items: Record<string, unknown>[] = []
    let added: string | null = null
    try {
      picked = parse(Picked, form)
      if (picked.action === 'add') {
        const title = picked.title.trim()
        if (!title) throw new AppError(400, 'validation_failed', 'Give the activity a title.')
        if (picked.kind === 'room') {
          items = [{ type: 'ltiResourceLink', title, custom: { [CUSTOM.language]: picked.language } }]
        } else {
          const one = (name: string, text: string): Record<string, string> => (text.trim() ? { [name.trim() || 'file']: text } : {})
          const files = { [picked.starterName.trim() || DEFAULT_FILE[picked.language]]: picked.starter }
          const visible = one(picked.visibleName, picked.visible)
          const hidden = one(picked.hiddenName, picked.hidden)
          const input = parse(CreateAssignment, {
            title,
            instructions: picked.instructions,
            language: picked.language,
            files,
            tests: { visible, hidden },
            // A datetime-local field carries no zone: it is read as UTC, as its label says.
            ...(picked.dueAt ? { dueAt: dueOf(picked.dueAt) } : {}),
            submitPolicy: picked.submitPolicy,
          })
          checkFiles(c, input.files, visible, hidden)
          const id = `lti-${randomUUID()}`
          await createAssignment(db.sql, {
            id,
            title: input.title,
            instructions: input.instructions,
            language: input.language,
            files: input.files,
            visibleTests: visible,
            hiddenTests: hidden,
            dueAt: input.dueAt ? new Date(input.dueAt) : null,
            submitPolicy: input.submitPolicy,
            ownerId: ctx.mayOwn ? ctx.userId : '',
          })
          await allowAssignmentFor(db.sql, id, platform.id)
          const graded = Object.keys(visible).length + Object.keys(hidden).length > 0
          items = [
            {
              type: 'ltiResourceLink',
              title,
              ...(input.instructions ? { text: input.instructions.slice(0, 500) } : {}),
              custom: { [CUSTOM.assignment]: id },
              ...(graded ? { lineItem: { scoreMaximum: 100, label: title, resourceId: id, tag: 'session-kit-tests' } } : {}),
              ...(input.dueAt ? { submission: { endDateTime: input.dueAt } } : {}),
            },
          ]
        }
        added = title
      }
    } catch (e) {
      if (!(e instanceof AppError) || e.status >= 500) throw e
      // The picker again, as it was filled in, with what to fix.
      return c.html(pickerHtml(form.request!, ctx, { message: e.message, values: form }), 400)
    }
    const jwt = await ltiKeys.sign(
      {
        iss: platform.clientId,
        aud: platform.issuer,
        azp: platform.clientId,
        nonce: randomBytes(16).toString('base64url'),
        [CLAIM.messageType]: 'LtiDeepLinkingResponse',
        [CLAIM.version]: '1.3.0',
        [CLAIM.deploymentId]: ctx.deploymentId,
        [CLAIM.contentItems]: items,
        ...(ctx.data ? { [CLAIM.deepLinkingData]: ctx.data } : {}),
        ...(added ? { 'https://purl.imsglobal.org/spec/lti-dl/claim/msg': `Added “${added}”.` } : {}),
      },
      { expiresIn: 600 },
    )
    return c.html(returnPage(ctx.returnUrl, jwt, added))
  })
  return r
}
