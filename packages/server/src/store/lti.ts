import type { JWK } from 'jose'
import type { Role } from '@session-kit/core'
import type { Sql } from './db.js'

// ---- platforms ------------------------------------------------------------------------------

export interface PlatformRow {
  id: string
  issuer: string
  clientId: string
  name: string
  authUrl: string
  tokenUrl: string
  jwksUrl: string
  deploymentIds: string[]
  registeredBy: 'admin' | 'dynamic'
  createdAt: Date
}

const platformColumns = (sql: Sql) =>
  sql`id, issuer, client_id as "clientId", name, auth_url as "authUrl", token_url as "tokenUrl", jwks_url as "jwksUrl", deployment_ids as "deploymentIds", registered_by as "registeredBy", created_at as "createdAt"`

export type NewPlatform = Omit<PlatformRow, 'createdAt'>

/**
 * Register a platform, or update the registration of the same issuer and client id (its endpoints,
 * and its deployments: those given are added to those it had). Returns the row and whether it is new.
 */
export async function upsertPlatform(sql: Sql, p: NewPlatform): Promise<{ row: PlatformRow; created: boolean }> {
  const [row] = await sql<(PlatformRow & { created: boolean })[]>`
    insert into lti_platforms (id, issuer, client_id, name, auth_url, token_url, jwks_url, deployment_ids, registered_by)
    values (${p.id}, ${p.issuer}, ${p.clientId}, ${p.name}, ${p.authUrl}, ${p.tokenUrl}, ${p.jwksUrl}, ${p.deploymentIds}, ${p.registeredBy})
    on conflict (issuer, client_id) do update set
      name = case when excluded.name = '' then lti_platforms.name else excluded.name end,
      auth_url = excluded.auth_url, token_url = excluded.token_url, jwks_url = excluded.jwks_url,
      deployment_ids = (select array(select distinct d from unnest(lti_platforms.deployment_ids || excluded.deployment_ids) d order by d))
    returning ${platformColumns(sql)}, (xmax = 0) as created`
  const { created, ...platform } = row!
  return { row: platform, created }
}

export async function getPlatform(sql: Sql, id: string): Promise<PlatformRow | undefined> {
  const [row] = await sql<PlatformRow[]>`select ${platformColumns(sql)} from lti_platforms where id = ${id}`
  return row
}

/** The registrations of an issuer (one client id given: that one only). */
export async function platformsOf(sql: Sql, issuer: string, clientId?: string): Promise<PlatformRow[]> {
  return sql<PlatformRow[]>`
    select ${platformColumns(sql)} from lti_platforms
    where issuer = ${issuer} ${clientId !== undefined ? sql`and client_id = ${clientId}` : sql``}
    order by created_at`
}

export async function listPlatforms(sql: Sql): Promise<PlatformRow[]> {
  return sql<PlatformRow[]>`select ${platformColumns(sql)} from lti_platforms order by created_at, id`
}

export async function deletePlatform(sql: Sql, id: string): Promise<boolean> {
  const rows = await sql`delete from lti_platforms where id = ${id} returning id`
  return rows.length > 0
}

// ---- our keys -------------------------------------------------------------------------------

export interface ToolKeyRow {
  kid: string
  privateJwk: JWK
  publicJwk: JWK
  createdAt: Date
  retiredAt: Date | null
}

const keyColumns = (sql: Sql) => sql`kid, private_jwk as "privateJwk", public_jwk as "publicJwk", created_at as "createdAt", retired_at as "retiredAt"`

/** The keys to publish: every unretired key, and those retired less than `keepRetiredS` ago; newest first. */
export async function publishedKeys(sql: Sql, keepRetiredS: number): Promise<ToolKeyRow[]> {
  return sql<ToolKeyRow[]>`
    select ${keyColumns(sql)} from lti_tool_keys
    where retired_at is null or retired_at > now() - make_interval(secs => ${keepRetiredS})
    order by created_at desc, kid`
}

/** The key that signs: the newest unretired one. */
export async function signingKey(sql: Sql): Promise<ToolKeyRow | undefined> {
  const [row] = await sql<ToolKeyRow[]>`select ${keyColumns(sql)} from lti_tool_keys where retired_at is null order by created_at desc, kid limit 1`
  return row
}

/**
 * Add a key; with `retireOthers`, every other key stops signing (a rotation). With `onlyIfNone`,
 * nothing is added when an unretired key exists (two instances making the first key at once).
 */
export async function addToolKey(sql: Sql, key: { kid: string; privateJwk: JWK; publicJwk: JWK }, opts: { retireOthers?: boolean; onlyIfNone?: boolean } = {}): Promise<ToolKeyRow> {
  return sql.begin(async (tx) => {
    // One writer at a time: the first key of a new deployment is made once.
    await tx`select pg_advisory_xact_lock(hashtext('lti_tool_keys'))`
    if (opts.onlyIfNone) {
      const [existing] = await tx<ToolKeyRow[]>`select ${keyColumns(sql)} from lti_tool_keys where retired_at is null order by created_at desc, kid limit 1`
      if (existing) return existing
    }
    if (opts.retireOthers) await tx`update lti_tool_keys set retired_at = now() where retired_at is null`
    const [row] = await tx<ToolKeyRow[]>`
      insert into lti_tool_keys (kid, private_jwk, public_jwk) values (${key.kid}, ${tx.json(key.privateJwk as never)}, ${tx.json(key.publicJwk as never)})
      returning ${keyColumns(sql)}`
    return row!
  }) as Promise<ToolKeyRow>
}

// ---- logins, nonces -------------------------------------------------------------------------

/** The login request as the platform sent it (to start again in a new window). */
export interface LoginRequest {
  iss: string
  login_hint: string
  target_link_uri: string
  lti_message_hint?: string
  lti_deployment_id?: string
  client_id?: string
  lti_storage_target?: string
}

export interface LoginRow {
  state: string
  nonce: string
  platformId: string
  binding: string
  storage: 'cookie' | 'platform'
  request: LoginRequest
  launch: unknown
  usedAt: Date | null
  expiresAt: Date
}

const loginColumns = (sql: Sql) =>
  sql`state, nonce, platform_id as "platformId", binding, storage, request, launch, used_at as "usedAt", expires_at as "expiresAt"`

export async function insertLogin(sql: Sql, l: Omit<LoginRow, 'launch' | 'usedAt'>): Promise<void> {
  await sql`
    insert into lti_logins (state, nonce, platform_id, binding, storage, request, expires_at)
    values (${l.state}, ${l.nonce}, ${l.platformId}, ${l.binding}, ${l.storage}, ${sql.json(l.request as never)}, ${l.expiresAt})`
}

export async function getLogin(sql: Sql, state: string): Promise<LoginRow | undefined> {
  const [row] = await sql<LoginRow[]>`select ${loginColumns(sql)} from lti_logins where state = ${state}`
  return row
}

/** Keep the verified launch with its login, until the browser shows the secret. */
export async function holdLaunch(sql: Sql, state: string, launch: unknown): Promise<void> {
  await sql`update lti_logins set launch = ${sql.json(launch as never)} where state = ${state}`
}

/** Use a login once: false when it was used already (a replay) or has expired. */
export async function useLogin(sql: Sql, state: string, now: Date): Promise<boolean> {
  const rows = await sql`update lti_logins set used_at = ${now} where state = ${state} and used_at is null and expires_at > ${now} returning state`
  return rows.length > 0
}

/** Record a launch's nonce: false when that platform signed it into a launch we accepted before. */
export async function recordNonce(sql: Sql, platformId: string, nonce: string, expiresAt: Date): Promise<boolean> {
  const rows = await sql`insert into lti_nonces (platform_id, nonce, expires_at) values (${platformId}, ${nonce}, ${expiresAt}) on conflict do nothing returning nonce`
  return rows.length > 0
}

/** Forget logins and nonces whose time has passed (a few at a time: called on every login). */
export async function purgeExpired(sql: Sql, now: Date): Promise<void> {
  await sql`delete from lti_logins where state in (select state from lti_logins where expires_at < ${now} limit 500)`
  await sql`delete from lti_nonces where (platform_id, nonce) in (select platform_id, nonce from lti_nonces where expires_at < ${now} limit 500)`
}

// ---- resource links -------------------------------------------------------------------------

export interface LinkRow {
  platformId: string
  deploymentId: string
  resourceLinkId: string
  kind: 'room' | 'assignment'
  sessionId: string | null
  assignmentId: string | null
  contextId: string | null
  contextTitle: string | null
  title: string
  nrpsUrl: string | null
  agsLineitems: string | null
  agsLineitem: string | null
  agsScopes: string[]
}

const linkColumns = (sql: Sql) =>
  sql`platform_id as "platformId", deployment_id as "deploymentId", resource_link_id as "resourceLinkId", kind, session_id as "sessionId", assignment_id as "assignmentId",
    context_id as "contextId", context_title as "contextTitle", title, nrps_url as "nrpsUrl", ags_lineitems as "agsLineitems", ags_lineitem as "agsLineitem", ags_scopes as "agsScopes"`

/**
 * The link of a launch: created on the first one (what it opens is fixed then), its course and
 * service endpoints brought up to date on every one.
 */
export async function upsertLink(sql: Sql, l: LinkRow): Promise<LinkRow> {
  const [row] = await sql<LinkRow[]>`
    insert into lti_links (platform_id, deployment_id, resource_link_id, kind, session_id, assignment_id, context_id, context_title, title, nrps_url, ags_lineitems, ags_lineitem, ags_scopes)
    values (${l.platformId}, ${l.deploymentId}, ${l.resourceLinkId}, ${l.kind}, ${l.sessionId}, ${l.assignmentId}, ${l.contextId}, ${l.contextTitle}, ${l.title}, ${l.nrpsUrl}, ${l.agsLineitems}, ${l.agsLineitem}, ${l.agsScopes})
    on conflict (platform_id, deployment_id, resource_link_id) do update set
      context_id = excluded.context_id, context_title = excluded.context_title,
      title = case when excluded.title = '' then lti_links.title else excluded.title end,
      nrps_url = coalesce(excluded.nrps_url, lti_links.nrps_url),
      ags_lineitems = coalesce(excluded.ags_lineitems, lti_links.ags_lineitems),
      ags_lineitem = coalesce(excluded.ags_lineitem, lti_links.ags_lineitem),
      ags_scopes = case when cardinality(excluded.ags_scopes) = 0 then lti_links.ags_scopes else excluded.ags_scopes end,
      updated_at = now()
    returning ${linkColumns(sql)}`
  return row!
}

export async function getLink(sql: Sql, platformId: string, deploymentId: string, resourceLinkId: string): Promise<LinkRow | undefined> {
  const [row] = await sql<LinkRow[]>`select ${linkColumns(sql)} from lti_links where platform_id = ${platformId} and deployment_id = ${deploymentId} and resource_link_id = ${resourceLinkId}`
  return row
}

/** The links that open this session or assignment (the newest first). */
export async function linksOf(sql: Sql, target: { sessionId: string } | { assignmentId: string }): Promise<LinkRow[]> {
  return sql<LinkRow[]>`
    select ${linkColumns(sql)} from lti_links
    where ${'sessionId' in target ? sql`session_id = ${target.sessionId}` : sql`assignment_id = ${target.assignmentId}`}
    order by updated_at desc`
}

export async function allowAssignmentFor(sql: Sql, assignmentId: string, platformId: string): Promise<void> {
  await sql`insert into lti_assignment_platforms (assignment_id, platform_id) values (${assignmentId}, ${platformId}) on conflict do nothing`
}

/** Whether a platform may open this assignment (it made it by Deep Linking, or a launch of it linked it before). */
export async function assignmentAllowedFor(sql: Sql, assignmentId: string, platformId: string): Promise<boolean> {
  const [row] = await sql<{ ok: boolean }[]>`
    select exists (select 1 from lti_assignment_platforms where assignment_id = ${assignmentId} and platform_id = ${platformId})
      or exists (select 1 from lti_links where assignment_id = ${assignmentId} and platform_id = ${platformId}) as ok`
  return row!.ok
}

// ---- course members -------------------------------------------------------------------------

export interface MemberRow {
  platformId: string
  contextId: string
  ltiSub: string
  userId: string
  name: string
  email: string | null
  picture: string | null
  role: Role
  testUser: boolean
  status: 'Active' | 'Inactive'
  source: 'launch' | 'roster'
  updatedAt: Date
}

const memberColumns = (sql: Sql) =>
  sql`platform_id as "platformId", context_id as "contextId", lti_sub as "ltiSub", user_id as "userId", name, email, picture, role, test_user as "testUser", status, source, updated_at as "updatedAt"`

export async function upsertMembers(sql: Sql, members: Omit<MemberRow, 'updatedAt'>[]): Promise<void> {
  if (!members.length) return
  const rows = members.map((m) => ({
    platform_id: m.platformId,
    context_id: m.contextId,
    lti_sub: m.ltiSub,
    user_id: m.userId,
    name: m.name,
    email: m.email,
    picture: m.picture,
    role: m.role,
    test_user: m.testUser,
    status: m.status,
    source: m.source,
  }))
  await sql`
    insert into lti_members ${sql(rows, 'platform_id', 'context_id', 'lti_sub', 'user_id', 'name', 'email', 'picture', 'role', 'test_user', 'status', 'source')}
    on conflict (platform_id, context_id, lti_sub) do update set
      name = case when excluded.name = '' then lti_members.name else excluded.name end,
      email = coalesce(excluded.email, lti_members.email),
      picture = coalesce(excluded.picture, lti_members.picture),
      role = excluded.role, test_user = excluded.test_user, status = excluded.status,
      source = case when lti_members.source = 'launch' then 'launch' else excluded.source end,
      updated_at = now()`
}

export async function membersOf(sql: Sql, platformId: string, contextId: string): Promise<MemberRow[]> {
  return sql<MemberRow[]>`select ${memberColumns(sql)} from lti_members where platform_id = ${platformId} and context_id = ${contextId} order by name, lti_sub`
}

/** Who a Session Kit user is in the LMS of this platform and course. */
export async function memberByUser(sql: Sql, platformId: string, contextId: string, userId: string): Promise<MemberRow | undefined> {
  const [row] = await sql<MemberRow[]>`select ${memberColumns(sql)} from lti_members where platform_id = ${platformId} and context_id = ${contextId} and user_id = ${userId}`
  return row
}
