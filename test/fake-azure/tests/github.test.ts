// The fake GitHub REST API for pull-request comments, called directly.
import { afterAll, beforeAll, expect, it } from '@jest/globals'
import { startFakeAzure, type FakeAzure } from '../index.ts'
import { call } from './helpers.ts'

let fake: FakeAzure
const REPO = 'o/r'
const auth = (): Record<string, string> => ({ authorization: `token ${fake.github!.token}` })

beforeAll(async () => {
  fake = await startFakeAzure({ github: true })
})
afterAll(async () => fake?.close())

it('lists 30 a page by default, 100 at most, with a Link to the next page', async () => {
  for (let i = 0; i < 130; i++) fake.github!.addComment(REPO, 1, `c${i}`)
  const first = await call(fake, `${fake.github!.apiUrl}/repos/${REPO}/issues/1/comments`, { headers: auth() })
  expect(first.body).toHaveLength(30)
  const big = await call(fake, `${fake.github!.apiUrl}/repos/${REPO}/issues/1/comments?per_page=500`, {
    headers: auth()
  })
  expect(big.body).toHaveLength(100)
  expect(big.headers.link).toMatch(
    /<http:\/\/127\.0\.0\.1:\d+\/repos\/o\/r\/issues\/1\/comments\?per_page=100&page=2>; rel="next"/
  )
  const last = await call(fake, `${fake.github!.apiUrl}/repos/${REPO}/issues/1/comments?per_page=100&page=2`, {
    headers: auth()
  })
  expect(last.body).toHaveLength(30)
  expect(last.headers.link).toBeUndefined()
})

it('creates and updates as the bot; refuses a bad token, a read-only token and an over-long body', async () => {
  const url = `${fake.github!.apiUrl}/repos/${REPO}/issues/2/comments`
  const made = await call(fake, url, { method: 'POST', headers: auth(), body: { body: 'hello' } })
  expect(made.status).toBe(201)
  expect(made.body.user).toEqual({ login: 'github-actions[bot]', type: 'Bot' })
  const edited = await call(fake, `${fake.github!.apiUrl}/repos/${REPO}/issues/comments/${made.body.id}`, {
    method: 'PATCH',
    headers: auth(),
    body: { body: 'again' }
  })
  expect(edited.body.body).toBe('again')
  expect((await call(fake, url, { headers: { authorization: 'token nope' } })).status).toBe(401)
  expect((await call(fake, url, { method: 'POST', headers: auth(), body: { body: 'x'.repeat(65_537) } })).status).toBe(
    422
  )
  fake.github!.setReadOnly(true)
  const refused = await call(fake, url, { method: 'POST', headers: auth(), body: { body: 'no' } })
  fake.github!.setReadOnly(false)
  expect(refused.status).toBe(403)
  expect(refused.body.message).toBe('Resource not accessible by integration')
  expect(refused.headers['x-accepted-github-permissions']).toBe('issues=write; pull_requests=write')
  expect(fake.github!.comments(REPO, 2).map((c) => c.body)).toEqual(['again'])
})

it('GET /user names the token’s user, and refuses an installation token (GITHUB_TOKEN)', async () => {
  const url = `${fake.github!.apiUrl}/user`
  const refused = await call(fake, url, { headers: auth() })
  expect(refused.status).toBe(403)
  expect(refused.body.message).toBe('Resource not accessible by integration')
  fake.github!.setTokenUser({ login: 'deployer', type: 'User' })
  try {
    expect((await call(fake, url, { headers: auth() })).body.login).toBe('deployer')
    const made = await call(fake, `${fake.github!.apiUrl}/repos/${REPO}/issues/3/comments`, {
      method: 'POST',
      headers: auth(),
      body: { body: 'as a user' }
    })
    expect(made.body.user).toEqual({ login: 'deployer', type: 'User' })
  } finally {
    fake.github!.setTokenUser(undefined)
  }
})

it('GraphQL viewer names whom the token posts as: GITHUB_TOKEN, a user, or another app’s bot', async () => {
  const viewer = async (): Promise<unknown> =>
    (
      await call(fake, `${fake.github!.apiUrl}/graphql`, {
        method: 'POST',
        headers: auth(),
        body: { query: 'query { viewer { login } }' }
      })
    ).body
  expect(await viewer()).toEqual({ data: { viewer: { login: 'github-actions[bot]' } } })
  try {
    fake.github!.setTokenUser({ login: 'deployer', type: 'User' })
    expect(await viewer()).toEqual({ data: { viewer: { login: 'deployer' } } })
    fake.github!.setTokenUser({ login: 'deploy-app[bot]', type: 'Bot' })
    expect(await viewer()).toEqual({ data: { viewer: { login: 'deploy-app[bot]' } } })
    // An installation token is no user: GET /user refuses it.
    expect((await call(fake, `${fake.github!.apiUrl}/user`, { headers: auth() })).status).toBe(403)
  } finally {
    fake.github!.setTokenUser(undefined)
  }
  const other = await call(fake, `${fake.github!.apiUrl}/graphql`, {
    method: 'POST',
    headers: auth(),
    body: { query: '{ repository(owner: "o", name: "r") { id } }' }
  })
  expect(other.status).toBe(200)
  expect(other.body.errors).toHaveLength(1)
})
