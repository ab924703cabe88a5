// GitHub's REST API through @actions/github (its Octokit honours GITHUB_API_URL and the proxy
// variables): find this step's comment by its marker among every comment of the pull request
// (paginated, 100 a page), then update it or create it. Other comments are only read.
import { getOctokit } from '@actions/github'
import type { PullRequest } from './pr-comment.js'

export async function upsertComment(
  token: string,
  pr: PullRequest,
  marker: string,
  body: string
): Promise<{ created: boolean; url: string }> {
  const octokit = getOctokit(token)
  const where = { owner: pr.owner, repo: pr.repo }
  let existing: { id: number } | undefined
  for await (const page of octokit.paginate.iterator(octokit.rest.issues.listComments, {
    ...where,
    issue_number: pr.number,
    per_page: 100
  })) {
    existing = page.data.find((comment) => comment.body?.includes(marker))
    if (existing) break
  }
  if (existing) {
    const { data } = await octokit.rest.issues.updateComment({ ...where, comment_id: existing.id, body })
    return { created: false, url: data.html_url }
  }
  const { data } = await octokit.rest.issues.createComment({ ...where, issue_number: pr.number, body })
  return { created: true, url: data.html_url }
}
