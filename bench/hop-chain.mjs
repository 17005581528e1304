// The floor of a round trip on this machine: the same hops as one task's
// round trip on the swarm (a client's HTTP request to a server process, a
// TCP message to a second process, IPC to its forked child, and the answer
// back the same way), through plain Node processes with no IdleGrid code.
// Used by jobs.ts as the round trip's baseline; run alone it prints the
// same JSON line. With a second argument, the client here measures the
// server, volunteer and runner roles of that script instead (the same
// messages, its own transports: hop-chain-stack.ts).
//
//   node bench/hop-chain.mjs [trips]      -> {"trips":N,"medianMs":..,"p95Ms":..,"minMs":..}
//   node --no-node-snapshot --import tsx bench/hop-chain.mjs [trips] bench/hop-chain-stack.ts
import { fork } from 'node:child_process'
import { request, createServer, Agent } from 'node:http'
import { connect, createServer as createTcpServer } from 'node:net'
import { CLK_TCK, childrenOf, cpuTicks } from './proc.mjs'

const role = process.argv[2]

/** Splits newline-delimited JSON arriving on a socket. */
function onLines (socket, handle) {
  let rest = ''
  socket.setEncoding('utf8')
  socket.on('data', chunk => {
    rest += chunk
    let i
    while ((i = rest.indexOf('\n')) >= 0) {
      handle(JSON.parse(rest.slice(0, i)))
      rest = rest.slice(i + 1)
    }
  })
}

/** CPU ms so far of the client (this process), the server, the volunteer and the runner (each forks the next). */
async function chainCpu (serverPid) {
  try {
    const [volunteer] = await childrenOf(serverPid)
    const [runner] = await childrenOf(volunteer)
    const ms = async pid => await cpuTicks(pid) * 1000 / CLK_TCK
    const usage = process.cpuUsage()
    return { server: await ms(serverPid), volunteer: await ms(volunteer), runner: await ms(runner), client: (usage.user + usage.system) / 1000 }
  } catch {
    return undefined
  }
}

if (role === 'runner') {
  // the sandbox runner's place: answers each message over IPC
  process.on('message', m => { process.send({ id: m.id, value: m.value }) })
  process.on('disconnect', () => { process.exit(0) })
} else if (role === 'volunteer') {
  // the volunteer's place: TCP from the server, IPC to its child
  const runner = fork(process.argv[1], ['runner'])
  const socket = connect(Number(process.argv[3]), '127.0.0.1')
  socket.setNoDelay(true)
  onLines(socket, m => { runner.send(m) })
  runner.on('message', m => { socket.write(JSON.stringify(m) + '\n') })
  socket.on('close', () => { runner.kill(); process.exit(0) })
} else if (role === 'server') {
  // the submitter's place: HTTP from the client, TCP to the volunteer
  let volunteer
  const waiting = new Map()
  const tcp = createTcpServer(socket => {
    volunteer = socket
    socket.setNoDelay(true)
    onLines(socket, m => {
      const res = waiting.get(m.id)
      waiting.delete(m.id)
      res.end(JSON.stringify({ value: m.value }) + '\n')
    })
  })
  await new Promise(resolve => tcp.listen(0, '127.0.0.1', resolve))
  const child = fork(process.argv[1], ['volunteer', String(tcp.address().port)])
  let next = 0
  const http = createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
    let body = ''
    req.setEncoding('utf8')
    req.on('data', d => { body += d })
    req.on('end', () => {
      const id = ++next
      waiting.set(id, res)
      res.writeHead(200, { 'content-type': 'application/x-ndjson' })
      volunteer.write(JSON.stringify({ id, value: JSON.parse(body).value }) + '\n')
    })
  })
  await new Promise(resolve => http.listen(0, '127.0.0.1', resolve))
  const until = setInterval(() => { if (volunteer != null) { clearInterval(until); process.send(http.address().port) } }, 10)
  process.on('disconnect', () => { child.kill(); process.exit(0) })
} else {
  const trips = Number(role ?? 300)
  // it sends its HTTP port once its chain is up, and stops with it when disconnected
  const server = fork(process.argv[3] ?? process.argv[1], ['server'])
  try {
    const port = await new Promise((resolve, reject) => { server.once('message', resolve); server.once('exit', code => { reject(new Error(`the chain's server exited ${code}`)) }) })
    const agent = new Agent({ keepAlive: true })
    const trip = value => new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/', agent, headers: { 'content-type': 'application/json' } }, res => {
        let text = ''
        res.setEncoding('utf8')
        res.on('data', d => { text += d })
        res.on('end', () => { resolve(JSON.parse(text).value) })
      })
      req.on('error', reject)
      req.end(JSON.stringify({ value }))
    })
    for (let i = 0; i < 50; i++) await trip(i)
    const before = await chainCpu(server.pid)
    const ms = []
    for (let i = 0; i < trips; i++) {
      const t0 = performance.now()
      if (await trip(i) !== i) throw new Error(`trip ${i} came back wrong`)
      ms.push(performance.now() - t0)
    }
    const after = await chainCpu(server.pid)
    ms.sort((a, b) => a - b)
    const at = q => ms[Math.min(ms.length - 1, Math.floor(q * ms.length))]
    // CPU per trip of each process of the chain, where /proc tells it
    const cpuMsPerTrip = before == null || after == null ? undefined : Object.fromEntries(Object.keys(after).map(k => [k, (after[k] - before[k]) / trips]))
    process.stdout.write(JSON.stringify({ trips, medianMs: at(0.5), p95Ms: at(0.95), minMs: ms[0], cpuMsPerTrip }) + '\n')
    agent.destroy()
  } finally {
    server.disconnect()
  }
}
