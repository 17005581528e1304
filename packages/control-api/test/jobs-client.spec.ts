// Per-route body limits, stream timeouts that cover only the wait for
// headers, and the job methods' paths and queries, over real HTTP.
import { getEventListeners } from 'node:events'
import { afterEach, describe, expect, it } from 'vitest'
import { createControlClient, createControlServer, jobHandle, ndjson, withBodyLimit } from '../src/index.js'
import type { ControlServer, RouteRequest, RouteTable } from '../src/index.js'

const TOKEN = 'test-token-0123456789abcdef'

describe('control API for jobs', () => {
  let server: ControlServer | undefined

  afterEach(async () => {
    await server?.close()
    server = undefined
  })

  async function start (routes: RouteTable): Promise<ReturnType<typeof createControlClient>> {
    server = await createControlServer({ token: TOKEN, routes, maxBodyBytes: 1024 })
    return createControlClient({ url: server.url, token: TOKEN, timeoutMs: 2_000 })
  }

  it('lets one route take a larger body than the server default', async () => {
    const client = await start({
      'POST /big': withBodyLimit(64 * 1024, ({ body }) => ({ got: (body as string).length })),
      'POST /small': ({ body }) => ({ got: (body as string).length })
    })
    const body = 'x'.repeat(10_000)
    expect(await client.request('POST', '/big', { body })).toEqual({ got: 10_000 })
    await expect(client.request('POST', '/small', { body })).rejects.toMatchObject({ name: 'PayloadTooLargeError', message: expect.stringMatching(/larger than the 1024 bytes allowed/) })
    await expect(client.request('POST', '/big', { body: 'y'.repeat(70_000) })).rejects.toMatchObject({ name: 'PayloadTooLargeError', message: expect.stringMatching(/65536 bytes allowed/) })
    expect(() => withBodyLimit(-1, () => undefined)).toThrow(TypeError)
  })

  it('times out a JSON request, but lets a stream run past the timeout once it answered', async () => {
    const sleep = async (ms: number, signal: AbortSignal): Promise<void> => { await new Promise(resolve => { const t = setTimeout(resolve, ms); signal.addEventListener('abort', () => { clearTimeout(t); resolve(undefined) }) }) }
    const client = await start({
      'GET /slow': async ({ signal }) => { await sleep(1_000, signal); return { late: true } },
      'GET /ticks': ({ signal }) => ndjson((async function * () {
        for (let i = 0; i < 4; i++) {
          // The first line comes after the timeout: only the headers are due by then.
          await sleep(i === 0 ? 400 : 50, signal)
          yield { i }
        }
      })())
    })
    await expect(client.request('GET', '/slow', { timeoutMs: 200 })).rejects.toMatchObject({ name: 'TimeoutError' })
    const ticks: unknown[] = []
    for await (const t of client.stream('GET', '/ticks', { timeoutMs: 200 })) ticks.push(t)
    expect(ticks).toEqual([{ i: 0 }, { i: 1 }, { i: 2 }, { i: 3 }])
    // a reader that stops early closes the request; the daemon's later lines
    // and the 'aborted' response that follows must not crash this process
    // (vitest fails the run on an uncaught error)
    for await (const t of client.stream('GET', '/ticks')) {
      expect(t).toEqual({ i: 0 })
      break
    }
    await new Promise(resolve => setTimeout(resolve, 200))
  })

  it('submits and reads the results in one request when completed() follows the submit at once; later, it asks again', async () => {
    const seen: string[] = []
    const stopped: string[] = []
    let n = 0
    const client = await start({
      'POST /v1/jobs': withBodyLimit(64 * 1024, ({ query, signal }) => {
        const jobId = `j${++n}`
        seen.push(`POST /v1/jobs?${query.toString()} -> ${jobId}`)
        signal.addEventListener('abort', () => { stopped.push(jobId) })
        return ndjson((async function * () {
          yield { jobId, bundleId: 'b', job: { id: jobId } }
          // the results come while the client reads
          await new Promise(resolve => setTimeout(resolve, 30))
          yield { index: 1, value: 'one' }
          yield { index: 0, value: 'zero' }
        })(), 201)
      }),
      'GET /v1/jobs/:id/results': ({ params, query }) => { seen.push(`GET /v1/jobs/${params.id}/results?${query.toString()}`); return ndjson([{ index: 0, value: 'again' }]) }
    })
    const bundle = { manifest: {}, source: '' } as unknown as Parameters<typeof client.submit>[0]
    const job = await client.submit(bundle, [0, 1])
    const arrived = []
    for await (const r of job.completed()) arrived.push(r)
    expect(job.id).toBe('j1')
    expect(arrived).toEqual([{ index: 1, value: 'one' }, { index: 0, value: 'zero' }])
    expect(seen).toEqual(['POST /v1/jobs?follow=completed -> j1'])

    // a handle not read at once lets the submit's stream go: the daemon stops following, and completed() asks for the results
    const later = await client.submit(bundle, [0])
    await new Promise(resolve => setTimeout(resolve, 10))
    const again = []
    for await (const r of later.completed()) again.push(r)
    expect(again).toEqual([{ index: 0, value: 'again' }])
    expect(seen.slice(1)).toEqual(['POST /v1/jobs?follow=completed -> j2', 'GET /v1/jobs/j2/results?follow=1&order=completed'])
    await new Promise(resolve => setTimeout(resolve, 50))
    expect(stopped).toContain('j2')
  })

  it('keeps nothing of its requests on a long-lived signal the caller passes to each, and still stops when it aborts', async () => {
    const held: AbortSignal[] = []
    const client = await start({
      'GET /v1/id': ({ signal }) => { held.push(signal); return { peerId: 'x' } },
      'GET /ticks': () => ndjson([1, 2]),
      'GET /wait': ({ signal }) => ndjson((async function * () {
        yield 'first'
        await new Promise(resolve => signal.addEventListener('abort', resolve, { once: true }))
      })()),
      'POST /v1/jobs': withBodyLimit(64 * 1024, () => ndjson([{ jobId: 'j', bundleId: 'b', job: { id: 'j' } }, { index: 0, value: 0 }], 201))
    })
    const program = new AbortController() // a program's Ctrl-C, say: it outlives every request
    const signal = program.signal
    const bundle = { manifest: {}, source: '' } as unknown as Parameters<typeof client.submit>[0]
    for (let i = 0; i < 50; i++) {
      await client.id({ signal })
      for await (const _ of client.stream('GET', '/ticks', { signal })) {} // eslint-disable-line no-unused-vars
      const job = await client.submit(bundle, [0], { signal })
      for await (const _ of job.completed({ signal })) {} // eslint-disable-line no-unused-vars
    }
    // nothing listens any more, and (where Node keeps them: AbortSignal.any
    // leaves one per call on Node 20-22) no composite signal depends on it
    expect(getEventListeners(signal, 'abort')).toHaveLength(0)
    const dependants = Object.getOwnPropertySymbols(signal).find(s => s.description === 'kDependantSignals')
    expect(dependants == null ? 0 : (signal as unknown as Record<symbol, Set<unknown> | undefined>)[dependants]?.size ?? 0).toBe(0)
    // the server's own signal per request: not tied to anything of the server's life once answered
    expect(held.every(s => getEventListeners(s, 'abort').length === 0)).toBe(true)

    // the same signal still stops a request under way
    const lines: unknown[] = []
    const reading = (async () => { for await (const line of client.stream('GET', '/wait', { signal })) lines.push(line) })()
    while (lines.length === 0) await new Promise(resolve => setTimeout(resolve, 5))
    program.abort()
    await expect(reading).rejects.toThrow()
    expect(lines).toEqual(['first'])
    expect(getEventListeners(signal, 'abort')).toHaveLength(0)
  })

  it('sends the job methods to their routes with their queries', async () => {
    const seen: string[] = []
    const record = ({ method, path, query }: RouteRequest): void => { seen.push(`${method} ${path}${query.size > 0 ? `?${query.toString()}` : ''}`) }
    const info = { id: 'j1', state: 'done', records: { total: 2, ok: 1, failed: 1 } }
    const client = await start({
      'GET /v1/jobs': r => { record(r); return [info] },
      'GET /v1/jobs/:id': r => { record(r); return { ...info, running: [] } },
      'POST /v1/jobs/:id/cancel': r => { record(r); return { cancelled: false, job: info } },
      'GET /v1/jobs/:id/results': r => { record(r); return ndjson(r.query.get('order') === 'completed' ? [{ index: 1, error: { name: 'E' } }, { index: 0, value: 7 }] : [{ index: 0, value: 7 }, { index: 1, error: { name: 'E' } }]) },
      'GET /v1/jobs/:id/events': r => { record(r); return ndjson([{ type: 'progress', jobId: 'j1' }, { type: 'done', jobId: 'j1', job: info }]) }
    })
    const job = jobHandle(client, 'j1')
    expect((await client.jobs())[0].id).toBe('j1')
    expect(await job.results()).toEqual([{ index: 0, value: 7 }, { index: 1, error: { name: 'E' } }])
    const arrived = []
    for await (const r of job) arrived.push(r.index)
    expect(arrived).toEqual([1, 0])
    expect(await job.done()).toEqual(info)
    expect(await job.cancel()).toBe(false)
    expect((await job.info()).id).toBe('j1')
    const from = []
    for await (const r of job.ordered({ from: 1, follow: false })) from.push(r)
    expect(seen).toEqual([
      'GET /v1/jobs',
      'GET /v1/jobs/j1/results?follow=1',
      'GET /v1/jobs/j1/results?follow=1&order=completed',
      'GET /v1/jobs/j1/events?interval=1000',
      'POST /v1/jobs/j1/cancel',
      'GET /v1/jobs/j1',
      'GET /v1/jobs/j1/results?follow=0&from=1&order=input'
    ])
  })
})
