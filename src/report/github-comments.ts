// GitHub's REST API through @actions/github (its Octokit honours GITHUB_API_URL and the proxy
// variables): find this step's comment by its marker among every comment of the pull request
// (paginated, 100 a page), then update it or create it. Other comments are only read.
//
// Anyone can paste the marker into a comment of their own, and another app's bot may quote it;
// updating such a comment would put the plan under their name (a token with pull-requests: write
// may edit any comment). So a comment counts as this step's only when the marker ends it, where
// the action puts it, and its author is whom the token posts as: GraphQL's `viewer` names that
// login for a user's token and for an installation token alike (`github-actions[bot]` for
// GITHUB_TOKEN, `<app-slug>[bot]` for a GitHub App), where REST GET /user answers only for users
// (joshjohanning/bulk-github-repo-settings-sync-action#194; marocchino/sticky-pull-request-comment
// matches its own comments the same way). It is asked only once a comment ends in the marker; if
// it cannot be asked, no comment is taken over and a new one is posted.
import { getOctokit } from '@actions/github'

type Octokit = ReturnType<typeof getOctokit>

export async function upsertComment(
  token: string,
  pr: PullRequest,
  marker: string,
  body: string
): Promise<{ created: boolean; url: string }> {
  const octokit = getOctokit(token)
  const where = { owner: pr.owner, repo: pr.repo }
  const isOurs = postedByToken(octokit)
  let existing: { id: number } | undefined
  for await (const page of octokit.paginate.iterator(octokit.rest.issues.listComments, {
    ...where,
    issue_number: pr.number,
    per_page: 100
  })) {
    for (const comment of page.data.filter((c) => endsWithMarker(c.body, marker))) {
      if (await isOurs(comment.user?.login)) {
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

/** renderComment puts the marker last; a comment that quotes it anywhere else is not this step's. */
function endsWithMarker(body: string | null | undefined, marker: string): boolean {
  return (body ?? '').trimEnd().endsWith(marker)
}

function postedByToken(octokit: Octokit): (author: string | undefined) => Promise<boolean> {
  let self: Promise<string | undefined> | undefined
  return async (author) => {
    self ??= octokit.graphql<{ viewer: { login: string } }>('query { viewer { login } }').then(
      ({ viewer }) => viewer.login,
      () => undefined
    )
    const login = await self
    return login !== undefined && author !== undefined && login.toLowerCase() === author.toLowerCase()
  }
}
export interface PullRequest {
  owner: string
  repo: string
  number: number
}
