// The control server over real HTTP on 127.0.0.1: auth, routing, bodies,
// error mapping and NDJSON streaming.
import { createServer } from 'node:net'
import { InvalidInputError, NotFoundError } from '@idlegrid/interface'
import { afterEach, describe, expect, it } from 'vitest'
import { createControlServer, ndjson, respond } from '../src/index.js'
import type { ControlServer, RouteTable } from '../src/index.js'
import type { AddressInfo } from 'node:net'

const TOKEN = 'test-token-0123456789abcdef'

async function call (server: ControlServer, method: string, path: string, init: { token?: string | null, body?: string, headers?: Record<string, string> } = {}): Promise<{ status: number, headers: Headers, body: any, text: string }> {
  const headers: Record<string, string> = { ...init.headers }
  if (init.token !== null) {
    headers.authorization = `Bearer ${init.token ?? TOKEN}`
  }
  const res = await fetch(server.url + path, { method, headers, body: init.body, signal: AbortSignal.timeout(5000) })
  const text = await res.text()
  let body: unknown
  try { body = JSON.parse(text) } catch { body = undefined }
  return { status: res.status, headers: res.headers, body, text }
}

describe('control server', () => {
  let server: ControlServer | undefined

  afterEach(async () => {
    await server?.close()
    server = undefined
  })

  async function start (routes: RouteTable, extra: { maxBodyBytes?: number, keepAliveMs?: number } = {}): Promise<ControlServer> {
    server = await createControlServer({ token: TOKEN, routes, ...extra })
    return server
  }

  it('listens on 127.0.0.1 with an ephemeral port by default', async () => {
    const s = await start({})
    expect(s.host).toBe('127.0.0.1')
    expect(s.port).toBeGreaterThan(0)
    expect(s.url).toBe(`http://127.0.0.1:${s.port}`)
  })

  it('keeps an idle connection for keepAliveMs, 65 s by default, and says so to the client', async () => {
    await expect(createControlServer({ token: TOKEN, routes: {}, keepAliveMs: 0 })).rejects.toMatchObject({ name: 'ConfigError' })
    const routes: RouteTable = { 'GET /v1/id': () => ({ id: 1 }) }
    // Node's agent keeps a socket until a second before the server's announced timeout
    expect((await call(await start(routes), 'GET', '/v1/id')).headers.get('keep-alive')).toBe('timeout=65')
    await server?.close()
    expect((await call(await start(routes, { keepAliveMs: 3000 }), 'GET', '/v1/id')).headers.get('keep-alive')).toBe('timeout=3')
  })

  it('refuses to bind anything but loopback', async () => {
    await expect(createControlServer({ token: TOKEN, routes: {}, host: '0.0.0.0' })).rejects.toMatchObject({ name: 'ConfigError', message: expect.stringMatching(/loopback/) })
    await expect(createControlServer({ token: 'short', routes: {} })).rejects.toMatchObject({ name: 'ConfigError' })
  })

  it('answers 401 without a token, with a wrong token, or with another scheme', async () => {
    let called = 0
    const s = await start({ 'GET /v1/status': () => { called++; return { ok: true } } })
    for (const init of [{ token: null }, { token: 'wrong-token-0123456789abcdef' }, { token: TOKEN + 'x' }, { token: null, headers: { authorization: `Basic ${TOKEN}` } }]) {
      const res = await call(s, 'GET', '/v1/status', init)
      expect(res.status).toBe(401)
      expect(res.body.error.name).toBe('UnauthorizedError')
      expect(res.headers.get('www-authenticate')).toBe('Bearer')
    }
    // Unknown paths are hidden behind auth too.
    expect((await call(s, 'GET', '/nope', { token: null })).status).toBe(401)
    expect(called).toBe(0)
    const ok = await call(s, 'GET', '/v1/status')
    expect(ok).toMatchObject({ status: 200, body: { ok: true } })
    expect(called).toBe(1)
  })

  it('passes params, query and parsed body to handlers', async () => {
    const s = await start({
      'POST /v1/jobs/:id': ({ params, query, body }) => respond(201, { params, q: query.get('q'), body })
    })
    const res = await call(s, 'POST', '/v1/jobs/j%2F1?q=x', { body: JSON.stringify({ a: [1, 2] }) })
    expect(res.status).toBe(201)
    expect(res.body).toEqual({ params: { id: 'j/1' }, q: 'x', body: { a: [1, 2] } })
  })

  it('answers 204 for undefined and JSON null for null', async () => {
    const s = await start({ 'DELETE /x': () => undefined, 'GET /x': () => null })
    expect((await call(s, 'DELETE', '/x')).status).toBe(204)
    expect(await call(s, 'GET', '/x')).toMatchObject({ status: 200, text: 'null' })
  })

  it('maps errors to 400/404/405/500 with { error: { name, message } }', async () => {
    const s = await start({
      'GET /bad': () => { throw new InvalidInputError('cpu must be a positive integer') },
      'GET /missing': async () => { throw new NotFoundError('no job j1') },
      'GET /boom': () => { throw new Error('kaput') }
    })
    expect(await call(s, 'GET', '/bad')).toMatchObject({ status: 400, body: { error: { name: 'InvalidInputError', message: 'cpu must be a positive integer' } } })
    expect(await call(s, 'GET', '/missing')).toMatchObject({ status: 404, body: { error: { name: 'NotFoundError', message: 'no job j1' } } })
    expect(await call(s, 'GET', '/boom')).toMatchObject({ status: 500, body: { error: { name: 'Error', message: 'kaput' } } })
    expect(await call(s, 'GET', '/nowhere')).toMatchObject({ status: 404, body: { error: { name: 'NotFoundError' } } })
    const wrongMethod = await call(s, 'POST', '/bad')
    expect(wrongMethod).toMatchObject({ status: 405, body: { error: { name: 'MethodNotAllowedError' } } })
    expect(wrongMethod.headers.get('allow')).toBe('GET')
  })

  it('rejects malformed JSON with 400 and oversize bodies with 413', async () => {
    let called = 0
    const s = await start({ 'POST /x': () => { called++; return 1 } }, { maxBodyBytes: 64 })
    expect(await call(s, 'POST', '/x', { body: '{"a":' })).toMatchObject({ status: 400, body: { error: { name: 'InvalidInputError', message: expect.stringMatching(/not valid JSON/) } } })
    expect(await call(s, 'POST', '/x', { body: JSON.stringify({ a: 'x'.repeat(100) }) })).toMatchObject({ status: 413, body: { error: { name: 'PayloadTooLargeError' } } })
    expect(called).toBe(0)
  })

  it('streams NDJSON and ends a failed stream with an error line', async () => {
    const s = await start({
      'GET /progress': () => ndjson((async function * () {
        yield { done: 1 }
        yield { done: 2 }
        throw new InvalidInputError('stopped')
      })())
    })
    const res = await call(s, 'GET', '/progress')
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/application\/x-ndjson/)
    expect(res.text.trim().split('\n').map(l => JSON.parse(l))).toEqual([
      { done: 1 }, { done: 2 }, { error: { name: 'InvalidInputError', message: 'stopped' } }
    ])
  })

  it('reports a port in use as AddressInUseError', async () => {
    const blocker = createServer()
    await new Promise<void>(resolve => blocker.listen(0, '127.0.0.1', resolve))
    const port = (blocker.address() as AddressInfo).port
    try {
      await expect(createControlServer({ token: TOKEN, routes: {}, port })).rejects.toMatchObject({ name: 'AddressInUseError', message: expect.stringContaining(String(port)) })
    } finally {
      await new Promise(resolve => blocker.close(resolve))
    }
  })

  it('close() aborts running handlers and returns with a stream open', async () => {
    let aborted = false
    const s = await start({
      'GET /forever': ({ signal }) => ndjson((async function * () {
        yield { started: true }
        await new Promise<void>(resolve => signal.addEventListener('abort', () => { aborted = true; resolve() }))
      })())
    })
    const res = await fetch(s.url + '/forever', { headers: { authorization: `Bearer ${TOKEN}` } })
    const reader = res.body!.getReader()
    await reader.read()
    await s.close()
    server = undefined
    expect(aborted).toBe(true)
  })
})
