// Route pattern compilation and matching.
import { describe, expect, it } from 'vitest'
import { compileRoutes, matchRoute } from '../src/router.js'

describe('router', () => {
  const routes = compileRoutes({
    'GET /v1/jobs/:id': 'job',
    'GET /v1/jobs/active': 'active',
    'DELETE /v1/jobs/:id': 'cancel',
    'GET /v1/jobs/:id/tasks/:task': 'task',
    'POST /v1/find': 'find'
  })

  it('matches literal paths and extracts decoded params', () => {
    const lookup = matchRoute(routes, 'GET', '/v1/jobs/abc%20def/tasks/7')
    expect(lookup).toEqual({ kind: 'match', match: { handler: 'task', params: { id: 'abc def', task: '7' }, pattern: 'GET /v1/jobs/:id/tasks/:task' } })
  })

  it('prefers literal segments over parameters', () => {
    const lookup = matchRoute(routes, 'GET', '/v1/jobs/active')
    expect(lookup.kind === 'match' && lookup.match.handler).toBe('active')
  })

  it('tells a wrong method apart from an unknown path', () => {
    expect(matchRoute(routes, 'POST', '/v1/jobs/1')).toEqual({ kind: 'method-not-allowed', allowed: ['GET', 'DELETE'] })
    expect(matchRoute(routes, 'GET', '/v1/nope')).toEqual({ kind: 'not-found' })
    expect(matchRoute(routes, 'GET', '/v1/jobs/%E0%A4%A')).toEqual({ kind: 'not-found' })
  })

  it('ignores trailing and doubled slashes', () => {
    expect(matchRoute(routes, 'POST', '/v1//find/').kind).toBe('match')
  })

  it('rejects malformed and duplicate route keys', () => {
    expect(() => compileRoutes({ 'FETCH /x': 1 })).toThrow(/must look like/)
    expect(() => compileRoutes({ 'GET x': 1 })).toThrow(/must look like/)
    expect(() => compileRoutes({ 'GET /a/:x': 1, 'GET /a/:y': 2 })).toThrow(/defined twice/)
  })
})
