// The plan on the pull request: the bundled action against the fake Azure and a fake GitHub REST
// API (comments listed with pagination, created, updated; 403 for a read-only token).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { startFakeAzure, type FakeAzure } from '../fake-azure/index.ts'
import { runAction, targetInputs, type ActionRun } from './run-action.ts'

let fake: FakeAzure
let dir: string
const RG = 'pr-rg'
const REPO = 'octo-org/octo-repo'
let counter = 0
const next = (prefix: string): string => `${prefix}-${++counter}`
const SETTING_VALUE = 'plain-setting-value-never-in-a-comment'

beforeAll(async () => {
  fake = await startFakeAzure({ github: true, referenceResolveDelayMs: 200 })
  fake.addResourceGroup(RG)
  dir = mkdtempSync(join(tmpdir(), 'pr-events-'))
})
afterAll(async () => {
  await fake?.close()
  rmSync(dir, { recursive: true, force: true })
})

/** The runner's variables for an event: the payload file, the API, the job and step. */
function eventEnv(eventName: string, payload: object, extra: Record<string, string | undefined> = {}) {
  const path = join(dir, `${next('event')}.json`)
  writeFileSync(path, JSON.stringify(payload))
  return {
    GITHUB_EVENT_NAME: eventName,
    GITHUB_EVENT_PATH: path,
    GITHUB_API_URL: fake.github!.apiUrl,
    GITHUB_WORKFLOW: 'keyvault',
    GITHUB_JOB: 'plan',
    GITHUB_ACTION: 'kv',
    'INPUT_GITHUB-TOKEN': fake.github!.token,
    ...extra
  }
}
const prEvent = (number: number) => ({ number, pull_request: { number } })

function seed(): { app: string; vault: string } {
  const app = next('app')
  const vault = next('kv')
  fake.addSite({ resourceGroup: RG, name: app, appSettings: { PLAIN: SETTING_VALUE } })
  fake.addVault({ resourceGroup: RG, name: vault, secrets: { db: {} } })
  return { app, vault }
}
const ours = (number: number) =>
  fake.github!.comments(REPO, number).filter((c) => c.body.includes('keyvault-app-identity-action'))
const ok = (run: ActionRun): void => {
  expect(run.error).toBe('')
  expect(run.exitCode).toBe(0)
}

describe('pr-comment', () => {
  it('the first plan creates one comment; the next run updates it in place; other comments are untouched', async () => {
    const { app, vault } = seed()
    const pr = 11
    const human = fake.github!.addComment(REPO, pr, 'LGTM', { login: 'octocat', type: 'User' })
    const inputs = targetInputs(RG, app, vault, { mode: 'plan', 'app-settings': 'DB=db' })
    const first = await runAction(fake, inputs, { env: eventEnv('pull_request', prEvent(pr)) })
    ok(first)
    expect(ours(pr)).toHaveLength(1)
    const comment = ours(pr)[0]
    expect(comment.body).toContain('### Key Vault access: plan (nothing written)')
    expect(comment.body).toContain(`turn on the system-assigned identity of ${app}`)
    expect(comment.body).toMatch(new RegExp(`\\| ${app} \\| not turned on \\| ${vault} \\| access-policy \\|`))
    expect(comment.body).toContain('[Workflow run](https://github.com/octo-org/octo-repo/actions/runs/4242)')
    expect(comment.body).toMatch(
      /<!-- keyvault-app-identity-action pr="11" workflow="keyvault" job="plan" step="kv" targets="[0-9a-f]{12}" -->$/
    )
    for (const secret of [SETTING_VALUE, fake.github!.token, fake.oidcRequestToken])
      expect(comment.body).not.toContain(secret)
    expect(first.stdout).toContain(`Posted the plan on pull request #${pr}`)

    // Apply happens elsewhere; the next plan shows nothing left to do, in the same comment.
    ok(await runAction(fake, targetInputs(RG, app, vault, { 'app-settings': 'DB=db' })))
    const second = await runAction(fake, inputs, { env: eventEnv('pull_request', prEvent(pr)) })
    ok(second)
    expect(ours(pr)).toHaveLength(1)
    expect(ours(pr)[0].id).toBe(comment.id)
    expect(ours(pr)[0].body).toContain('Apply would change nothing.')
    expect(ours(pr)[0].body).toContain('| DB |')
    expect(fake.github!.comments(REPO, pr).find((c) => c.id === human.id)?.body).toBe('LGTM')
    expect(second.stdout).toContain(`Updated the plan on pull request #${pr}`)
  })

  it('finds its comment among many (paginated), and another step or another matrix leg keeps its own', async () => {
    const { app, vault } = seed()
    const pr = 12
    for (let i = 0; i < 150; i++)
      fake.github!.addComment(REPO, pr, `chatter ${i}`, { login: `user${i % 3}`, type: 'User' })
    const inputs = targetInputs(RG, app, vault, { mode: 'plan' })
    ok(await runAction(fake, inputs, { env: eventEnv('pull_request', prEvent(pr)) }))
    fake.clearLog()
    ok(await runAction(fake, inputs, { env: eventEnv('pull_request', prEvent(pr)) }))
    // 151 comments, 100 a page: ours is on page 2, found there (whom the token posts as is asked
    // once a comment ends in the marker) and updated, not created again.
    const calls = fake.requests.filter((r) => r.server === 'github').map((r) => `${r.method} ${r.path}`)
    expect(calls).toEqual([
      `GET /repos/${REPO}/issues/${pr}/comments`,
      `GET /repos/${REPO}/issues/${pr}/comments`,
      'POST /graphql',
      expect.stringMatching(new RegExp(`^PATCH /repos/${REPO}/issues/comments/\\d+$`))
    ])
    expect(fake.requests.filter((r) => r.server === 'github').map((r) => r.query.page ?? '1')).toEqual([
      '1',
      '2',
      '1',
      '1'
    ])
    expect(ours(pr)).toHaveLength(1)
    expect(fake.github!.comments(REPO, pr)).toHaveLength(151)
    // Another step of the same job, and another matrix leg managing another app: a comment each.
    ok(await runAction(fake, inputs, { env: eventEnv('pull_request', prEvent(pr), { GITHUB_ACTION: 'kv-2' }) }))
    const other = seed()
    ok(
      await runAction(fake, targetInputs(RG, other.app, other.vault, { mode: 'plan' }), {
        env: eventEnv('pull_request', prEvent(pr))
      })
    )
    expect(ours(pr)).toHaveLength(3)
  })

  it('a comment carrying the marker but written by someone else is never edited; a PAT edits its own', async () => {
    const { app, vault } = seed()
    const pr = 16
    const inputs = targetInputs(RG, app, vault, { mode: 'plan' })
    ok(await runAction(fake, inputs, { env: eventEnv('pull_request', prEvent(pr)) }))
    const marker = /<!-- keyvault-app-identity-action [^>]*-->/.exec(ours(pr)[0].body)![0]
    const forPr = (n: number): string => marker.replace(`pr="${pr}"`, `pr="${n}"`)
    // GITHUB_TOKEN: Mallory predicts the marker of another pull request and posts it first. Her
    // comment is not the bot's (and GET /user is 403 for this token), so a new comment is posted.
    const copied = fake.github!.addComment(REPO, 19, `pay here ${forPr(19)}`, { login: 'mallory', type: 'User' })
    const run = await runAction(fake, inputs, { env: eventEnv('pull_request', prEvent(19)) })
    ok(run)
    expect(run.stdout).toContain('Posted the plan on pull request #19')
    expect(fake.github!.comments(REPO, 19).find((c) => c.id === copied.id)?.body).toBe(`pay here ${forPr(19)}`)
    expect(ours(19).map((c) => c.user.login)).toEqual(['mallory', 'github-actions[bot]'])

    // A personal access token: its user's comment is updated, not Mallory's, though hers is listed first.
    const pr2 = 17
    const hers = fake.github!.addComment(REPO, pr2, `hers ${forPr(17)}`, {
      login: 'mallory',
      type: 'User'
    })
    const mine = fake.github!.addComment(REPO, pr2, `mine ${forPr(17)}`, {
      login: 'deployer',
      type: 'User'
    })
    fake.github!.setTokenUser({ login: 'deployer', type: 'User' })
    try {
      const pat = await runAction(fake, inputs, { env: eventEnv('pull_request', prEvent(pr2)) })
      ok(pat)
      expect(pat.stdout).toContain(`Updated the plan on pull request #${pr2}`)
      const after = fake.github!.comments(REPO, pr2)
      expect(after.find((c) => c.id === hers.id)?.body).toMatch(/^hers /)
      expect(after.find((c) => c.id === mine.id)?.body).toContain('### Key Vault access: plan')
      // Without a comment of its own, a PAT creates one instead of taking over Mallory's.
      const pr3 = 18
      fake.github!.addComment(REPO, pr3, `hers ${forPr(18)}`, {
        login: 'mallory',
        type: 'User'
      })
      const third = await runAction(fake, inputs, { env: eventEnv('pull_request', prEvent(pr3)) })
      ok(third)
      expect(third.stdout).toContain(`Posted the plan on pull request #${pr3}`)
      expect(fake.github!.comments(REPO, pr3).map((c) => c.user.login)).toEqual(['mallory', 'deployer'])
    } finally {
      fake.github!.setTokenUser(undefined)
    }
  })

  it('only a comment ending in the marker and written as the token posts is updated; quotes stay untouched', async () => {
    const { app, vault } = seed()
    const inputs = targetInputs(RG, app, vault, { mode: 'plan' })
    ok(await runAction(fake, inputs, { env: eventEnv('pull_request', prEvent(21)) }))
    const template = ours(21)[0].body
    const forPr = (text: string, n: number): string => text.replace('pr="21"', `pr="${n}"`)
    const marker = (n: number): string => forPr(/<!-- keyvault-app-identity-action [^>]*-->/.exec(template)![0], n)
    const gh = fake.github!

    // Another app's bot repeats the whole comment, marker last; another workflow's GITHUB_TOKEN
    // comment quotes the marker in a reply. Neither is this step's: a comment of its own is posted.
    const pr = 23
    const mirrored = `Mirrored:\n\n${forPr(template, pr)}`
    const quoted = `> ${marker(pr)}\n\nWhat is this?`
    const mirror = gh.addComment(REPO, pr, mirrored, { login: 'mirror-app[bot]', type: 'Bot' })
    const quote = gh.addComment(REPO, pr, quoted, { login: 'github-actions[bot]', type: 'Bot' })
    const first = await runAction(fake, inputs, { env: eventEnv('pull_request', prEvent(pr)) })
    ok(first)
    expect(first.stdout).toContain(`Posted the plan on pull request #${pr}`)
    const second = await runAction(fake, inputs, { env: eventEnv('pull_request', prEvent(pr)) })
    ok(second)
    expect(second.stdout).toContain(`Updated the plan on pull request #${pr}`)
    const after = gh.comments(REPO, pr)
    expect(after.map((c) => [c.user.login, c.body.slice(0, 9)])).toEqual([
      ['mirror-app[bot]', 'Mirrored:'],
      ['github-actions[bot]', '> <!-- ke'],
      ['github-actions[bot]', '### Key V']
    ])
    expect(after.find((c) => c.id === mirror.id)?.body).toBe(mirrored)
    expect(after.find((c) => c.id === quote.id)?.body).toBe(quoted)

    // A GitHub App's token posts as its bot: its own comment is updated, not github-actions[bot]'s.
    const pr2 = 22
    const byActions = gh.addComment(REPO, pr2, `old ${marker(pr2)}`, { login: 'github-actions[bot]', type: 'Bot' })
    const byApp = gh.addComment(REPO, pr2, `mine ${marker(pr2)}`, { login: 'deploy-app[bot]', type: 'Bot' })
    gh.setTokenUser({ login: 'deploy-app[bot]', type: 'Bot' })
    try {
      const asApp = await runAction(fake, inputs, { env: eventEnv('pull_request', prEvent(pr2)) })
      ok(asApp)
      expect(asApp.stdout).toContain(`Updated the plan on pull request #${pr2}`)
      const comments = gh.comments(REPO, pr2)
      expect(comments.find((c) => c.id === byActions.id)?.body).toBe(`old ${marker(pr2)}`)
      expect(comments.find((c) => c.id === byApp.id)?.body).toContain('### Key Vault access: plan')
      expect(comments).toHaveLength(2)
    } finally {
      gh.setTokenUser(undefined)
    }
  })

  it('without permission to comment (a fork, a read-only token) it warns once and the step succeeds', async () => {
    const { app, vault } = seed()
    const pr = 13
    fake.github!.setReadOnly(true)
    try {
      const run = await runAction(fake, targetInputs(RG, app, vault, { mode: 'verify' }), {
        env: eventEnv('pull_request', prEvent(pr))
      })
      expect(run.exitCode).toBe(1) // verify fails on its own: the identity is off
      expect(run.error).toMatch(/^Verify failed/)
      const warnings = run.stdout.split('\n').filter((l) => l.startsWith('::warning::'))
      expect(warnings).toHaveLength(1)
      expect(warnings[0]).toContain(`Could not comment on pull request #${pr}: the token may not write comments (403`)
      expect(warnings[0]).toContain('issues=write; pull_requests=write')
      expect(warnings[0]).toContain('pull-requests: write')
      const plan = await runAction(fake, targetInputs(RG, app, vault, { mode: 'plan' }), {
        env: eventEnv('pull_request', prEvent(pr))
      })
      ok(plan)
      expect(ours(pr)).toEqual([])
    } finally {
      fake.github!.setReadOnly(false)
    }
  })

  it('push events never comment; apply comments only with pr-comment: true', async () => {
    const { app, vault } = seed()
    const before = fake.requests.filter((r) => r.server === 'github').length
    ok(
      await runAction(fake, targetInputs(RG, app, vault, { mode: 'plan' }), {
        env: eventEnv('push', { ref: 'refs/heads/main' })
      })
    )
    const forced = await runAction(fake, targetInputs(RG, app, vault, { mode: 'plan', 'pr-comment': 'true' }), {
      env: eventEnv('push', { ref: 'refs/heads/main' })
    })
    ok(forced)
    expect(forced.stdout).toContain('No pull request in this event: no comment posted.')
    ok(await runAction(fake, targetInputs(RG, app, vault), { env: eventEnv('pull_request', prEvent(14)) }))
    expect(fake.requests.filter((r) => r.server === 'github').length).toBe(before)
    const applied = await runAction(fake, targetInputs(RG, app, vault, { 'pr-comment': 'true' }), {
      env: eventEnv('pull_request', prEvent(14))
    })
    ok(applied)
    expect(ours(14)).toHaveLength(1)
    expect(ours(14)[0].body).toContain('### Key Vault access: apply')
    const off = await runAction(fake, targetInputs(RG, app, vault, { mode: 'plan', 'pr-comment': 'false' }), {
      env: eventEnv('pull_request', prEvent(15))
    })
    ok(off)
    expect(ours(15)).toEqual([])
  })
})
