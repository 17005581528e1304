// The typed client against a real control server: discovery through the data
// directory, named errors, and streams.
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { createServer as createHttpServer } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { InvalidInputError } from '@idlegrid/interface'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  CONTROL_FILE, TOKEN_FILE, createControlClient, createControlServer, generateToken, ndjson,
  readControlFiles, removeControlFiles, writeControlFiles
} from '../src/index.js'
import type { ControlServer } from '../src/index.js'
import type { AddressInfo } from 'node:net'

describe('control client', () => {
  let dataDir: string
  let server: ControlServer | undefined
  const token = generateToken()

  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'idlegrid-client-'))
  })

  afterEach(async () => {
    await server?.close()
    server = undefined
    await rm(dataDir, { recursive: true, force: true })
  })

  async function startDaemonLike (): Promise<ControlServer> {
    server = await createControlServer({
      token,
      routes: {
        'GET /v1/status': () => ({ peerId: '12D3KooWtest', addresses: ['/ip4/127.0.0.1/tcp/1'] }),
        'GET /v1/peers': () => [{ peerId: 'p1', addresses: [] }],
        'POST /v1/find': ({ body }) => {
          if ((body as { cpu?: number }).cpu === 0) throw new InvalidInputError('cpu must be at least 1')
          return [{ peerId: 'v1', addresses: [], capacity: { freeCores: (body as { cpu: number }).cpu } }]
        },
        'GET /v1/ticks': () => ndjson([1, 2, 3]),
        'GET /v1/broken': () => ndjson((async function * () { yield 1; throw new Error('lost it') })())
      }
    })
    await writeControlFiles(dataDir, { version: 1, host: server.host, port: server.port, pid: process.pid, startedAt: new Date().toISOString() }, token)
    return server
  }

  it('writes the token with mode 0600 and reads both files back', async () => {
    await startDaemonLike()
    expect((await stat(join(dataDir, TOKEN_FILE))).mode & 0o777).toBe(0o600)
    const { info, token: read } = await readControlFiles(dataDir)
    expect(read).toBe(token)
    expect(info.port).toBe(server!.port)
  })

  it('finds the daemon through the data directory and calls typed methods', async () => {
    await startDaemonLike()
    const client = createControlClient({ dataDir })
    expect((await client.status()).peerId).toBe('12D3KooWtest')
    expect(await client.peers()).toEqual([{ peerId: 'p1', addresses: [] }])
    expect((await client.find({ cpu: 2 }))[0].capacity.freeCores).toBe(2)
  })

  it('follows a daemon that restarted on the same data dir, with a new port and token', async () => {
    await startDaemonLike()
    const client = createControlClient({ dataDir })
    expect((await client.status()).peerId).toBe('12D3KooWtest')
    expect((await client.status()).peerId).toBe('12D3KooWtest')
    await server!.close()
    const token2 = generateToken()
    server = await createControlServer({ token: token2, routes: { 'GET /v1/status': () => ({ peerId: 'restarted', addresses: [] }) } })
    await writeControlFiles(dataDir, { version: 1, host: server.host, port: server.port, pid: process.pid, startedAt: new Date().toISOString() }, token2)
    expect((await client.status()).peerId).toBe('restarted')
  })

  it('keeps its connection between requests for keepAliveMs (60 s by default)', async () => {
    let connections = 0
    const plain = createHttpServer((req, res) => { res.setHeader('content-type', 'application/json'); res.end(JSON.stringify({ peerId: 'p', addresses: [] })) })
    plain.keepAliveTimeout = 10_000
    plain.on('connection', () => { connections++ })
    await new Promise<void>(resolve => plain.listen(0, '127.0.0.1', resolve))
    expect(() => createControlClient({ dataDir, keepAliveMs: -1 })).toThrow(/keepAliveMs must be a whole number/)
    try {
      const client = createControlClient({ url: `http://127.0.0.1:${(plain.address() as AddressInfo).port}`, token, keepAliveMs: 300 })
      await client.status()
      await new Promise(resolve => setTimeout(resolve, 100))
      await client.status()
      expect(connections).toBe(1)
      // idle past keepAliveMs: the client closed it, the next request opens another
      await new Promise(resolve => setTimeout(resolve, 600))
      await client.status()
      expect(connections).toBe(2)
    } finally {
      plain.closeAllConnections()
      await new Promise(resolve => plain.close(resolve))
    }
  })

  it('keeps the connection of a stream its consumer leaves at the last line, and closes one left before its end', async () => {
    let connections = 0
    const closed: string[] = []
    const plain = createHttpServer((req, res) => {
      req.on('close', () => { if (!res.writableEnded) closed.push(req.url ?? '') })
      if (req.url === '/v1/done') {
        // a job's answer line, then its last result and the end of the stream together
        res.write('{"jobId":"j"}\n')
        setImmediate(() => res.end('{"index":0}\n'))
      } else {
        res.write('{"index":0}\n')
      }
    })
    plain.keepAliveTimeout = 10_000
    plain.on('connection', () => { connections++ })
    await new Promise<void>(resolve => plain.listen(0, '127.0.0.1', resolve))
    try {
      const client = createControlClient({ url: `http://127.0.0.1:${(plain.address() as AddressInfo).port}`, token })
      const untilResult = async (path: string): Promise<void> => {
        for await (const v of client.stream<{ index?: number }>('POST', path)) if (v.index === 0) break
      }
      for (let i = 0; i < 10; i++) await untilResult('/v1/done')
      // a second one opens when the next request leaves before the end of
      // the last was read; a new one for each would be 10
      expect(connections).toBeLessThanOrEqual(2)
      const kept = connections
      // a stream that goes on: closed, so the daemon stops following it
      await untilResult('/v1/forever')
      while (closed.length === 0) await new Promise(resolve => setTimeout(resolve, 10))
      expect(closed).toEqual(['/v1/forever'])
      await untilResult('/v1/done')
      expect(connections).toBeLessThanOrEqual(kept + 1)
    } finally {
      plain.closeAllConnections()
      await new Promise(resolve => plain.close(resolve))
    }
  })

  it('rebuilds named errors from answers', async () => {
    await startDaemonLike()
    const client = createControlClient({ dataDir })
    await expect(client.find({ cpu: 0 })).rejects.toSatisfy((err: Error) => err instanceof InvalidInputError && err.message === 'cpu must be at least 1')
    await expect(client.request('GET', '/v1/none')).rejects.toMatchObject({ name: 'NotFoundError' })
    const wrong = createControlClient({ url: server!.url, token: 'not-the-token-at-all' })
    await expect(wrong.status()).rejects.toMatchObject({ name: 'UnauthorizedError' })
  })

  it('streams NDJSON values and throws the error a stream ends with', async () => {
    await startDaemonLike()
    const client = createControlClient({ dataDir })
    const got: unknown[] = []
    for await (const v of client.stream('GET', '/v1/ticks')) got.push(v)
    expect(got).toEqual([1, 2, 3])
    const partial: unknown[] = []
    await expect((async () => { for await (const v of client.stream('GET', '/v1/broken')) partial.push(v) })()).rejects.toMatchObject({ name: 'ControlApiError', remoteName: 'Error', message: 'lost it' })
    expect(partial).toEqual([1])
  })

  it('says DaemonNotRunningError with the way out when nothing answers', async () => {
    const client = createControlClient({ dataDir })
    await expect(client.status()).rejects.toMatchObject({
      name: 'DaemonNotRunningError',
      message: `no daemon running for data dir ${dataDir}; start one with \`idlegrid daemon --data-dir ${dataDir}\``
    })
    // A control.json left by a process that died.
    await writeFile(join(dataDir, CONTROL_FILE), JSON.stringify({ version: 1, host: '127.0.0.1', port: 1, pid: 2 ** 22 + 12345, startedAt: '' }))
    await writeFile(join(dataDir, TOKEN_FILE), token)
    await expect(client.status()).rejects.toMatchObject({ name: 'DaemonNotRunningError', message: expect.stringMatching(/not running/) })
    // A live pid, but nothing listening on the port any more.
    await startDaemonLike()
    const port = server!.port
    await server!.close()
    server = undefined
    await writeControlFiles(dataDir, { version: 1, host: '127.0.0.1', port, pid: process.pid, startedAt: '' }, token)
    await expect(client.status()).rejects.toMatchObject({ name: 'DaemonNotRunningError', message: expect.stringMatching(/refused/) })
  })

  it('removes control files only for the pid that wrote them', async () => {
    await startDaemonLike()
    await removeControlFiles(dataDir, process.pid + 1)
    expect(JSON.parse(await readFile(join(dataDir, CONTROL_FILE), 'utf8')).pid).toBe(process.pid)
    await removeControlFiles(dataDir, process.pid)
    await expect(stat(join(dataDir, CONTROL_FILE))).rejects.toMatchObject({ code: 'ENOENT' })
    await expect(stat(join(dataDir, TOKEN_FILE))).rejects.toMatchObject({ code: 'ENOENT' })
  })
})
