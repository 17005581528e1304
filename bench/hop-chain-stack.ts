// The floor of a round trip through the stack IdleGrid must use, with none
// of IdleGrid's own work between: the roles of hop-chain.mjs, whose client
// measures them, but the server stores each request and each answer as a
// row of a SQLite file (WAL, synchronous NORMAL: no fsync), the message to
// the second process goes over a libp2p stream of the daemon's own node
// (TCP, Noise, yamux), and the child runs the value through a function in
// an isolated-vm context of its own (made ahead, as the sandbox runner
// keeps a spare). The two middle processes set the daemon's V8 flags as
// the daemon does. Used by jobs.ts next to the round trip:
//
//   node --no-node-snapshot --import tsx bench/hop-chain.mjs [trips] bench/hop-chain-stack.ts
import '@idlegrid/interface/polyfill'
import { fork } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { setFlagsFromString } from 'node:v8'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { lpStream } from '@libp2p/utils'
import { multiaddr } from '@multiformats/multiaddr'
import Database from 'better-sqlite3'
import { createNode } from '@idlegrid/node'
import ivm, { type Reference } from '@idlegrid/sandbox-runner/isolated-vm'
import { testMachine } from '@idlegrid/test-utils'
import type { AddressInfo } from 'node:net'

const PROTOCOL = '/idlegrid-bench/hop-chain/1.0.0'
/** What apps/cli/bin/idlegrid.js gives the daemon (DAEMON_V8_FLAGS and --max-opt=1), the same way. */
const DAEMON_V8 = ['--semi-space-growth-factor=1', '--max-opt=1']
const SELF = fileURLToPath(import.meta.url)
const role = process.argv[2]
const utf8 = new TextEncoder()
const text = new TextDecoder()

interface Message { id: number, value: unknown }

/** A libp2p node as the daemon builds it, with a test machine's description (no probing). */
async function startNode (): Promise<Awaited<ReturnType<typeof createNode>>> {
  return await createNode({ privateKey: await generateKeyPair('Ed25519'), machine: testMachine() })
}

if (role === 'runner') {
  // the sandbox runner's place: each message runs in a context made before it came
  const isolate = new ivm.Isolate({ memoryLimit: 64 })
  const job = isolate.compileScriptSync('(function job (input) { return input })')
  const spare = (): Reference => job.runSync(isolate.createContextSync(), { reference: true })
  let next = spare()
  process.on('message', (m: Message) => {
    const value = next.applySync(undefined, [m.value], { arguments: { copy: true }, result: { copy: true } })
    process.send?.({ id: m.id, value })
    next.release()
    next = spare()
  })
  process.on('disconnect', () => { process.exit(0) })
} else if (role === 'volunteer') {
  // the volunteer's place: a libp2p stream from the server, IPC to its child
  DAEMON_V8.forEach(flag => { setFlagsFromString(flag) })
  const node = await startNode()
  const runner = fork(SELF, ['runner'])
  const stream = await node.libp2p.dialProtocol(multiaddr(process.argv[3]), PROTOCOL)
  const lp = lpStream(stream)
  runner.on('message', (m: Message) => { void lp.write(utf8.encode(JSON.stringify(m))) })
  process.on('disconnect', () => { runner.kill(); process.exit(0) })
  while (true) {
    runner.send(JSON.parse(text.decode((await lp.read()).subarray())) as Message)
  }
} else if (role === 'server') {
  // the submitter's place: HTTP from the client, a row stored, a libp2p stream to the volunteer
  DAEMON_V8.forEach(flag => { setFlagsFromString(flag) })
  const dir = await mkdtemp(join(tmpdir(), 'idlegrid-hop-chain-'))
  const db = new Database(join(dir, 'chain.db'))
  db.pragma('journal_mode = WAL')
  db.pragma('synchronous = NORMAL')
  db.exec('CREATE TABLE asked (id INTEGER PRIMARY KEY, value TEXT NOT NULL); CREATE TABLE answered (id INTEGER PRIMARY KEY, value TEXT NOT NULL)')
  const ask = db.prepare('INSERT INTO asked (id, value) VALUES (?, ?)')
  const answer = db.prepare('INSERT INTO answered (id, value) VALUES (?, ?)')
  const node = await startNode()
  const waiting = new Map<number, (value: unknown) => void>()
  let toVolunteer: ((m: Message) => void) | undefined
  await node.libp2p.handle(PROTOCOL, async stream => {
    const lp = lpStream(stream)
    toVolunteer = m => { void lp.write(utf8.encode(JSON.stringify(m))) }
    while (true) {
      const m = JSON.parse(text.decode((await lp.read()).subarray())) as Message
      answer.run(m.id, JSON.stringify(m.value))
      waiting.get(m.id)?.(m.value)
      waiting.delete(m.id)
    }
  })
  let next = 0
  const http = createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
    let body = ''
    req.setEncoding('utf8')
    req.on('data', (d: string) => { body += d })
    req.on('end', () => {
      const id = ++next
      const { value } = JSON.parse(body) as { value: unknown }
      ask.run(id, JSON.stringify(value))
      waiting.set(id, answered => { res.end(JSON.stringify({ value: answered }) + '\n') })
      res.writeHead(200, { 'content-type': 'application/x-ndjson' })
      toVolunteer?.({ id, value })
    })
  })
  await new Promise<void>(resolve => http.listen(0, '127.0.0.1', resolve))
  const volunteer = fork(SELF, ['volunteer', node.addresses()[0]])
  const until = setInterval(() => { if (toVolunteer != null) { clearInterval(until); process.send?.((http.address() as AddressInfo).port) } }, 10)
  process.on('disconnect', () => {
    volunteer.kill()
    db.close()
    void rm(dir, { recursive: true, force: true }).finally(() => process.exit(0))
  })
} else {
  throw new Error('run it through hop-chain.mjs: node --no-node-snapshot --import tsx bench/hop-chain.mjs [trips] bench/hop-chain-stack.ts')
}
