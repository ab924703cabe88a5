// GitHub's REST API through @actions/github (its Octokit honours GITHUB_API_URL and the proxy
// variables): find this step's comment by its marker among every comment of the pull request
// (paginated, 100 a page), then update it or create it. Other comments are only read.
//
// Anyone can paste the marker into a comment of their own; updating that comment would put the
// plan under their name (a token with pull-requests: write may edit any comment). So a comment
// counts as ours only when its author is a bot (GITHUB_TOKEN and GitHub App tokens comment as
// one) or is the token's own user (a personal access token). GET /user answers only for user
// tokens, and is asked only when a marked comment has a human author.
import { getOctokit } from '@actions/github'
import type { PullRequest } from './pr-comment.js'

type Octokit = ReturnType<typeof getOctokit>
interface Author {
  login?: string
  type?: string
}

export async function upsertComment(
  token: string,
  pr: PullRequest,
  marker: string,
  body: string
): Promise<{ created: boolean; url: string }> {
  const octokit = getOctokit(token)
  const where = { owner: pr.owner, repo: pr.repo }
  const isOurs = authoredByToken(octokit)
  let existing: { id: number } | undefined
  for await (const page of octokit.paginate.iterator(octokit.rest.issues.listComments, {
    ...where,
    issue_number: pr.number,
    per_page: 100
  })) {
    for (const comment of page.data.filter((c) => c.body?.includes(marker))) {
      if (await isOurs(comment.user ?? {})) {
        existing = comment
        break
      }
    }
    if (existing) break
  }
  if (existing) {
    const { data } = await octokit.rest.issues.updateComment({ ...where, comment_id: existing.id, body })
    return { created: false, url: data.html_url }
  }
  const { data } = await octokit.rest.issues.createComment({ ...where, issue_number: pr.number, body })
  return { created: true, url: data.html_url }
}

function authoredByToken(octokit: Octokit): (author: Author) => Promise<boolean> {
  let self: Promise<string | undefined> | undefined
  return async (author) => {
    if (author.type === 'Bot') return true
    self ??= octokit.rest.users.getAuthenticated().then(
      ({ data }) => data.login,
      () => undefined // an installation token (GITHUB_TOKEN) is not a user: 403
    )
    const login = await self
    return login !== undefined && login.toLowerCase() === author.login?.toLowerCase()
  }
}
