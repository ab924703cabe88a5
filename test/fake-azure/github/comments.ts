// GitHub's REST API for issue comments on pull requests, as @actions/github's Octokit uses it
// (docs.github.com/rest/issues/comments): list with `per_page` (at most 100, default
// 30) and a `Link: <…>; rel="next"` header, create, update; `token` auth; a read-only token (a
// fork's GITHUB_TOKEN) gets 403 "Resource not accessible by integration" with the
// x-accepted-github-permissions header. Bodies over 65536 characters get 422 (undocumented; the
// body as GitHub answered it in jmikedupont2/ai-ticket#51). GET /user answers
// for a user's token (a PAT) and is 403 "Resource not accessible by integration" for GITHUB_TOKEN
// and other installation tokens (body as captured in actions/create-github-app-token#258).
// POST /graphql `{ viewer { login } }` answers for both kinds, with the login the token's
// comments carry: the user's for a PAT, `<app-slug>[bot]` for a GitHub App's installation token
// (joshjohanning/bulk-github-repo-settings-sync-action#194, fullsend-ai/fullsend#1953, both from
// live runs), `github-actions[bot]` for GITHUB_TOKEN (marocchino/sticky-pull-request-comment
// src/comment.ts matches its own comments this way). Only that query is modelled.
import type { FakeRequest, FakeResponse, Handler } from '../core/server.ts'

export interface FakeComment {
  id: number
  body: string
  user: { login: string; type: string }
  html_url: string
  created_at: string
  updated_at: string
}

export interface GitHubState {
  token: string
  readOnly: boolean
  /**
   * Whom the token posts as when it is not GITHUB_TOKEN: a user (a personal access token; GET /user
   * names them) or another GitHub App's bot (`type: 'Bot'`, an installation token).
   */
  user?: { login: string; type: string }
  comments: Map<string, FakeComment[]> // by 'owner/repo#number'
  nextId: number
}

const BOT = { login: 'github-actions[bot]', type: 'Bot' }
const MAX_BODY = 65_536

const json = (status: number, body: unknown, headers: Record<string, string> = {}): FakeResponse => ({
  status,
  body,
  headers
})
const error = (status: number, message: string, doc: string, headers: Record<string, string> = {}): FakeResponse =>
  json(
    status,
    { message, documentation_url: `https://docs.github.com/rest/issues/comments#${doc}`, status: String(status) },
    headers
  )

export function createGitHubState(token: string): GitHubState {
  return { token, readOnly: false, comments: new Map(), nextId: 1000 }
}

export function addComment(gh: GitHubState, repo: string, number: number, body: string, user = BOT): FakeComment {
  const key = `${repo}#${number}`
  const now = new Date().toISOString()
  const comment: FakeComment = {
    id: gh.nextId++,
    body,
    user,
    html_url: `https://github.com/${repo}/pull/${number}#issuecomment-${gh.nextId}`,
    created_at: now,
    updated_at: now
  }
  gh.comments.set(key, [...(gh.comments.get(key) ?? []), comment])
  return comment
}

export function githubHandler(gh: GitHubState, baseUrl: () => string): Handler {
  return (req: FakeRequest): FakeResponse => {
    if (req.headers.authorization !== `token ${gh.token}`) {
      return json(401, { message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest', status: '401' })
    }
    if (req.path === '/graphql' && req.method === 'POST') return graphql(gh, req)
    if (req.path === '/user' && req.method === 'GET') {
      if (gh.user?.type === 'User') return json(200, { login: gh.user.login, type: gh.user.type, id: 1 })
      return json(403, {
        message: 'Resource not accessible by integration',
        documentation_url: 'https://docs.github.com/rest/users/users#get-the-authenticated-user',
        status: '403'
      })
    }
    const list = /^\/repos\/([^/]+\/[^/]+)\/issues\/(\d+)\/comments$/.exec(req.path)
    if (list && req.method === 'GET') return listComments(gh, list[1], Number(list[2]), req, baseUrl())
    if (list && req.method === 'POST') {
      if (gh.readOnly) return readOnly('create-an-issue-comment')
      const body = bodyOf(req)
      if (typeof body !== 'string') return error(422, 'Invalid request.', 'create-an-issue-comment')
      if (body.length > MAX_BODY) return tooLong('create-an-issue-comment')
      return json(201, addComment(gh, list[1], Number(list[2]), body, gh.user ?? BOT))
    }
    const one = /^\/repos\/([^/]+\/[^/]+)\/issues\/comments\/(\d+)$/.exec(req.path)
    if (one && req.method === 'PATCH') {
      if (gh.readOnly) return readOnly('update-an-issue-comment')
      const comment = [...gh.comments.entries()]
        .filter(([key]) => key.startsWith(`${one[1]}#`))
        .flatMap(([, c]) => c)
        .find((c) => c.id === Number(one[2]))
      if (!comment) return json(404, { message: 'Not Found', status: '404' })
      const body = bodyOf(req)
      if (typeof body !== 'string') return error(422, 'Invalid request.', 'update-an-issue-comment')
      if (body.length > MAX_BODY) return tooLong('update-an-issue-comment')
      comment.body = body
      comment.updated_at = new Date().toISOString()
      return json(200, comment)
    }
    return json(404, { message: 'Not Found', status: '404' })
  }
}

function listComments(gh: GitHubState, repo: string, number: number, req: FakeRequest, base: string): FakeResponse {
  const all = gh.comments.get(`${repo}#${number}`) ?? []
  const perPage = Math.min(100, Number(req.query.per_page) || 30)
  const page = Math.max(1, Number(req.query.page) || 1)
  const items = all.slice((page - 1) * perPage, page * perPage)
  const headers: Record<string, string> = {}
  if (page * perPage < all.length) {
    const next = new URLSearchParams({ ...req.query, per_page: String(perPage), page: String(page + 1) })
    headers.link = `<${base}${req.path}?${next.toString()}>; rel="next"`
  }
  return json(200, items, headers)
}

function graphql(gh: GitHubState, req: FakeRequest): FakeResponse {
  const query = req.body && typeof req.body === 'object' ? (req.body as { query?: unknown }).query : undefined
  if (typeof query === 'string' && /^\s*(query\s*)?\{\s*viewer\s*\{\s*login\s*\}\s*\}\s*$/.test(query))
    return json(200, { data: { viewer: { login: (gh.user ?? BOT).login } } })
  // GraphQL answers a query it cannot run with 200 and `errors`; other queries are not modelled.
  return json(200, { errors: [{ message: 'The fake GitHub models only `{ viewer { login } }`.' }] })
}

function readOnly(doc: string): FakeResponse {
  return error(403, 'Resource not accessible by integration', doc, {
    'x-accepted-github-permissions': 'issues=write; pull_requests=write'
  })
}

function tooLong(doc: string): FakeResponse {
  return json(422, {
    message: 'Validation Failed',
    errors: [
      {
        resource: 'IssueComment',
        code: 'unprocessable',
        field: 'data',
        message: `Body is too long (maximum is ${MAX_BODY} characters)`
      }
    ],
    documentation_url: `https://docs.github.com/rest/issues/comments#${doc}`
  })
}

function bodyOf(req: FakeRequest): unknown {
  return req.body && typeof req.body === 'object' ? (req.body as { body?: unknown }).body : undefined
}
