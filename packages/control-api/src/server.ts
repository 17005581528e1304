// The control API's HTTP server: loopback only, bearer-token auth, JSON in
// and out, NDJSON streams, and errors as `{ error: { name, message } }`.
import { createHash, timingSafeEqual } from 'node:crypto'
import { createServer } from 'node:http'
import { isIP } from 'node:net'
import { AddressInUseError, ConfigError, InvalidInputError, NotFoundError, UnauthorizedError } from '@idlegrid/interface'
import { logger as createLogger } from '@libp2p/logger'
import { anySignal } from 'any-signal'
import { PayloadTooLargeError, statusForError } from './errors.js'
import { compileRoutes, matchRoute } from './router.js'
import type { ErrorBody } from './errors.js'
import type { RouteMatch } from './router.js'
import type { Logger } from '@libp2p/logger'
import type { IncomingHttpHeaders, IncomingMessage, Server, ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'

/** What a route handler receives. */
export interface RouteRequest {
  method: string
  path: string
  /** Values of the pattern's `:param` segments, URL-decoded. */
  params: Record<string, string>
  query: URLSearchParams
  /** The parsed JSON body, or undefined when the request had none. */
  body: unknown
  headers: IncomingHttpHeaders
  /** Aborts when the client goes away or the server closes. */
  signal: AbortSignal
}

/**
 * A route handler. What it returns is sent as JSON with status 200 (204 for
 * undefined); return `respond()` for another status or `ndjson()` to stream.
 * A thrown named error becomes `{ error: { name, message } }` with the status
 * its name maps to (400 InvalidInputError, 404 NotFoundError, ..., else 500).
 */
export type RouteHandler = (request: RouteRequest) => unknown

/** Route table: keys look like `GET /v1/jobs/:id`. */
export type RouteTable = Record<string, RouteHandler>

const BODY_LIMIT = Symbol.for('idlegrid.control-api.maxBodyBytes')
/** How long an NDJSON stream's headers wait to leave with its first line. */
const HEADERS_ALONE_MS = 20
/** An NDJSON stream writes its gathered lines at once from this size on, not at the end of the tick. */
const FLUSH_AT_CHARS = 64 * 1024

/**
 * Lets one route accept a larger (or smaller) body than the server's
 * `maxBodyBytes`, e.g. a job submission carrying its input records.
 */
export function withBodyLimit (maxBodyBytes: number, handler: RouteHandler): RouteHandler {
  if (!Number.isSafeInteger(maxBodyBytes) || maxBodyBytes < 0) {
    throw new TypeError(`maxBodyBytes must be a whole number of bytes, got ${String(maxBodyBytes)}`)
  }
  const limited: RouteHandler = async request => await handler(request)
  Object.defineProperty(limited, BODY_LIMIT, { value: maxBodyBytes })
  return limited
}

function bodyLimitOf (handler: RouteHandler, fallback: number): number {
  const limit = (handler as unknown as Record<symbol, unknown>)[BODY_LIMIT]
  return typeof limit === 'number' ? limit : fallback
}

/** A JSON answer with a chosen status. */
export class JsonResponse {
  constructor (readonly status: number, readonly body: unknown) {}
}

/** A streamed answer: one JSON value per line (application/x-ndjson). */
export class NdjsonResponse {
  constructor (readonly source: AsyncIterable<unknown> | Iterable<unknown>, readonly status = 200) {}
}

/** Answer with a status other than 200, e.g. `respond(201, job)`. */
export function respond (status: number, body: unknown): JsonResponse {
  return new JsonResponse(status, body)
}

/**
 * Stream values as NDJSON. If the source throws after the first line, the
 * stream ends with one line `{"error":{"name","message"}}` (an object whose
 * only key is `error`), which the client turns back into the named error.
 */
export function ndjson (source: AsyncIterable<unknown> | Iterable<unknown>, status = 200): NdjsonResponse {
  return new NdjsonResponse(source, status)
}

export interface ControlServerInit {
  /** The bearer token every request must carry. At least 16 characters. */
  token: string
  routes: RouteTable
  /** Loopback address to bind. Default '127.0.0.1'; anything but loopback is refused. */
  host?: string
  /** Port; default 0 (an ephemeral port chosen by the OS). */
  port?: number
  /** Largest request body accepted, in bytes. Default 1 MiB. */
  maxBodyBytes?: number
  /**
   * How long an idle kept-alive connection stays open for the client's next
   * request, ms. Default 65 s (DEFAULT_KEEP_ALIVE_MS), longer than the
   * client keeps one (60 s), so the client always closes first.
   */
  keepAliveMs?: number
  logger?: Logger
}

export interface ControlServer {
  readonly host: string
  readonly port: number
  /** e.g. `http://127.0.0.1:40123` */
  readonly url: string
  /** Stops accepting, aborts running handlers and closes open connections. */
  close(): Promise<void>
}

export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024
/**
 * An idle connection is kept this long. Node's default (5 s) made a client
 * that submits every few seconds open a new connection for each request:
 * 4 ms more per round trip after a 6 s pause (a one-record job, median of
 * 10: 22.7 against 18.5 ms). Only loopback clients holding the token connect.
 */
export const DEFAULT_KEEP_ALIVE_MS = 65_000

/**
 * Starts the control API server and resolves once it listens.
 *
 * @throws ConfigError for a non-loopback host, a short token or a bad port
 * @throws AddressInUseError when the port is taken
 */
export async function createControlServer (init: ControlServerInit): Promise<ControlServer> {
  const host = init.host ?? '127.0.0.1'
  const port = init.port ?? 0
  const maxBodyBytes = init.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES
  const keepAliveMs = init.keepAliveMs ?? DEFAULT_KEEP_ALIVE_MS
  const log = init.logger ?? createLogger('idlegrid:control-api:server')

  if (!isLoopback(host)) {
    throw new ConfigError(`control API host must be a loopback address such as 127.0.0.1, got '${host}'`)
  }
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ConfigError(`control API port must be an integer from 0 to 65535, got '${String(port)}'`)
  }
  if (!Number.isSafeInteger(keepAliveMs) || keepAliveMs < 1) {
    throw new ConfigError(`control API keepAliveMs must be a whole number of milliseconds of at least 1, got '${String(init.keepAliveMs)}'`)
  }
  if (typeof init.token !== 'string' || init.token.length < 16) {
    throw new ConfigError('control API token must be a string of at least 16 characters')
  }

  const routes = compileRoutes(init.routes)
  const tokenDigest = digest(init.token)
  const closing = new AbortController()
  const sockets = new Set<Socket>()

  const server: Server = createServer((req, res) => {
    handle(req, res).catch(err => {
      log.error('unhandled error answering %s %s - %e', req.method, req.url, err)
      if (!res.headersSent) {
        sendJson(res, 500, errorBody(err))
      } else {
        res.destroy()
      }
    })
  })
  server.keepAliveTimeout = keepAliveMs
  server.on('connection', socket => {
    sockets.add(socket)
    socket.once('close', () => sockets.delete(socket))
  })

  async function handle (req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? 'GET'
    const url = new URL(req.url ?? '/', 'http://control.invalid')

    if (!authorized(req.headers.authorization, tokenDigest)) {
      req.resume()
      res.setHeader('www-authenticate', 'Bearer')
      sendJson(res, 401, errorBody(new UnauthorizedError('missing or wrong control token: send "Authorization: Bearer <token>" with the token from the data directory\'s control-token file')))
      return
    }

    const lookup = matchRoute(routes, method, url.pathname)
    if (lookup.kind !== 'match') {
      req.resume()
      if (lookup.kind === 'method-not-allowed') {
        res.setHeader('allow', lookup.allowed.join(', '))
        sendJson(res, 405, { error: { name: 'MethodNotAllowedError', message: `${method} is not allowed on ${url.pathname}; use ${lookup.allowed.join(' or ')}` } })
      } else {
        sendJson(res, 404, errorBody(new NotFoundError(`no route for ${method} ${url.pathname}`)))
      }
      return
    }

    const requestAbort = new AbortController()
    const onClose = (): void => { if (!res.writableFinished) requestAbort.abort() }
    res.once('close', onClose)
    // cleared when answered: closing lives as long as the daemon (docs/abort-signals.md)
    const signal = anySignal([requestAbort.signal, closing.signal])
    try {
      await answer(req, res, method, url, lookup.match, signal)
    } finally {
      signal.clear()
    }
  }

  async function answer (req: IncomingMessage, res: ServerResponse, method: string, url: URL, match: RouteMatch<RouteHandler>, signal: AbortSignal): Promise<void> {
    let result: unknown
    try {
      const body = await readJsonBody(req, bodyLimitOf(match.handler, maxBodyBytes))
      result = await match.handler({
        method,
        path: url.pathname,
        params: match.params,
        query: url.searchParams,
        body,
        headers: req.headers,
        signal
      })
    } catch (err) {
      const status = statusForError(err)
      if (status >= 500) {
        log.error('%s %s failed - %e', method, url.pathname, err)
      } else {
        log('%s %s answered %d - %s', method, url.pathname, status, (err as Error).message)
      }
      if (status === 413) {
        res.setHeader('connection', 'close')
      }
      sendJson(res, status, errorBody(err))
      return
    }

    if (result instanceof NdjsonResponse) {
      await streamNdjson(res, result, signal)
    } else if (result instanceof JsonResponse) {
      sendJson(res, result.status, result.body)
    } else if (result === undefined) {
      res.writeHead(204).end()
    } else {
      sendJson(res, 200, result)
    }
  }

  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      server.off('listening', onListening)
      if (err.code === 'EADDRINUSE') {
        reject(new AddressInUseError(`control API port ${port} on ${host} is already in use by another process; choose another control port or stop that process`, { cause: err }))
      } else {
        reject(err)
      }
    }
    const onListening = (): void => {
      server.off('error', onError)
      resolve()
    }
    server.once('error', onError)
    server.once('listening', onListening)
    server.listen({ host, port, exclusive: true })
  })

  const address = server.address() as AddressInfo
  const urlHost = address.family === 'IPv6' ? `[${address.address}]` : address.address
  log('listening on %s:%d', address.address, address.port)

  let closed: Promise<void> | undefined
  return {
    host: address.address,
    port: address.port,
    url: `http://${urlHost}:${address.port}`,
    async close () {
      closed ??= new Promise<void>(resolve => {
        closing.abort()
        server.close(() => { resolve() })
        // Keep-alive and streaming connections would hold close() open.
        for (const socket of sockets) {
          socket.destroy()
        }
      })
      await closed
    }
  }
}

function isLoopback (host: string): boolean {
  if (host === 'localhost') {
    return true
  }
  if (isIP(host) === 4) {
    return host.startsWith('127.')
  }
  return host === '::1'
}

function digest (value: string): Buffer {
  return createHash('sha256').update(value).digest()
}

/** Compares digests so the time taken says nothing about the token. */
function authorized (header: string | undefined, expected: Buffer): boolean {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '')
  const given = digest(match?.[1] ?? '')
  return timingSafeEqual(given, expected) && match != null
}

async function readJsonBody (req: IncomingMessage, maxBytes: number): Promise<unknown> {
  const declared = Number(req.headers['content-length'] ?? NaN)
  if (declared > maxBytes) {
    req.resume()
    throw new PayloadTooLargeError(`request body of ${declared} bytes is larger than the ${maxBytes} bytes allowed`)
  }
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length
    if (size > maxBytes) {
      req.resume()
      throw new PayloadTooLargeError(`request body is larger than the ${maxBytes} bytes allowed`)
    }
    chunks.push(chunk)
  }
  if (size === 0) {
    return undefined
  }
  const text = Buffer.concat(chunks).toString('utf8')
  try {
    return JSON.parse(text)
  } catch (err) {
    throw new InvalidInputError(`request body is not valid JSON: ${(err as Error).message}`)
  }
}

function errorBody (err: unknown): ErrorBody {
  const e = err as { name?: unknown, message?: unknown, retryable?: unknown } | undefined
  const name = typeof e?.name === 'string' ? e.name : 'Error'
  const message = typeof e?.message === 'string' ? e.message : String(err)
  return { error: { name, message, ...(e?.retryable === true ? { retryable: true } : {}) } }
}

function sendJson (res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body)
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store'
  })
  res.end(text)
}

async function streamNdjson (res: ServerResponse, response: NdjsonResponse, signal: AbortSignal): Promise<void> {
  res.writeHead(response.status, {
    'content-type': 'application/x-ndjson; charset=utf-8',
    'cache-control': 'no-store'
  })
  // The headers leave with the first line when it comes soon, else on
  // their own: a followed stream may wait long for its first line, and the
  // client's timeout covers only the wait for the headers.
  let alone: ReturnType<typeof setTimeout> | undefined = setTimeout(() => {
    alone = undefined
    if (!res.destroyed) {
      res.flushHeaders()
    }
  }, HEADERS_ALONE_MS)
  // Lines written in one tick, and the end right after them, leave in one
  // write (a one-record job's result and the stream's end: one, not three).
  // Gathered here, not with res.cork(): Node 22.23 sends what was written
  // while corked after the stream's last chunk when end() comes in the same
  // tick, and the client sees a broken stream (docs/node-versions.md).
  let pending = ''
  let scheduled = false
  const flush = (): boolean => {
    const text = pending
    pending = ''
    return text === '' || res.writableEnded || res.destroyed || res.write(text)
  }
  const write = (text: string): boolean => {
    if (alone != null) {
      clearTimeout(alone)
      alone = undefined
    }
    pending += text
    if (pending.length >= FLUSH_AT_CHARS) {
      return flush()
    }
    if (!scheduled) {
      scheduled = true
      process.nextTick(() => {
        scheduled = false
        flush()
      })
    }
    return !res.writableNeedDrain
  }
  try {
    for await (const value of response.source) {
      if (signal.aborted) {
        break
      }
      if (!write(JSON.stringify(value) + '\n')) {
        await new Promise<void>(resolve => {
          const done = (): void => { res.off('drain', done); res.off('close', done); resolve() }
          res.once('drain', done)
          res.once('close', done)
        })
      }
    }
  } catch (err) {
    if (!signal.aborted) {
      write(JSON.stringify(errorBody(err)) + '\n')
    }
  }
  clearTimeout(alone)
  if (!res.destroyed) {
    res.end(pending)
  }
  pending = ''
}
