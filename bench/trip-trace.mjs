// Where a round trip's time goes, process by process, without touching
// IdleGrid's code: loaded with `node --import` into the bench's client and
// each daemon, it notes the moments the processes' sockets write and read,
// the control server's requests and a daemon's messages from its sandbox
// runners. jobs.ts loads it when TRIP_TRACE_DIR names a folder, and prints
// the trip's segments with its round trip (docs/benchmarks.md, jobs.ts).
// A diagnostic: each note costs a few µs, so traced trips run a little slower.
//
//   TRIP_TRACE_DIR=/tmp/trace node --no-node-snapshot --import tsx bench/jobs.ts --only trip
import { appendFileSync, readdirSync, readFileSync } from 'node:fs'
import { ChildProcess } from 'node:child_process'
import { Server } from 'node:http'
import { Socket } from 'node:net'
import { join } from 'node:path'

const DIR = process.env.TRIP_TRACE_DIR
const notes = []

/** Writes this process's notes so far to its file in the trace folder. */
export function flushTrace () {
  if (DIR != null && notes.length > 0) {
    const text = notes.join('\n') + '\n'
    notes.length = 0
    try {
      appendFileSync(join(DIR, `${process.pid}.trace`), text)
    } catch (err) {
      // a diagnostic must not stop the process it watches
      process.stderr.write(`trip-trace: could not write to ${DIR}: ${err.message}\n`)
    }
  }
}

if (DIR != null) {
  const now = () => (performance.timeOrigin + performance.now()).toFixed(3)
  const note = (kind, local, remote) => { notes.push(`${kind} ${local ?? '-'} ${remote ?? '-'} ${now()}`) }
  setInterval(flushTrace, 500).unref()
  process.on('exit', flushTrace)
  // W: bytes handed to the kernel (write and writev both pass here); D: bytes read
  const writeGeneric = Socket.prototype._writeGeneric
  Socket.prototype._writeGeneric = function (...args) { note('W', this.localPort, this.remotePort); return writeGeneric.apply(this, args) }
  const emitSocket = Socket.prototype.emit
  Socket.prototype.emit = function (event, ...args) { if (event === 'data') note('D', this.localPort, this.remotePort); return emitSocket.call(this, event, ...args) }
  // the HTTP server reads its sockets without 'data' events: R is a request's headers read
  const emitServer = Server.prototype.emit
  Server.prototype.emit = function (event, ...args) { if (event === 'request') note('R', args[0].socket.localPort, args[0].socket.remotePort); return emitServer.call(this, event, ...args) }
  // P: a message from a child process (a sandbox runner's answer)
  const emitChild = ChildProcess.prototype.emit
  ChildProcess.prototype.emit = function (event, ...args) { if (event === 'message') note('P', this.pid, undefined); return emitChild.call(this, event, ...args) }
}

/**
 * Splits each traced round trip into its segments: the client's request to the
 * control server (hop), the submitter until the task's offer is written, the
 * hop to the volunteer, the volunteer until its runner answers (the IPC both
 * ways and the run), the volunteer until the result is written, the hop back,
 * the submitter until the client's line is written, the hop to the client, and
 * the client until its next request. `from`/`to` bound the trips (epoch ms).
 */
export function tripSegments ({ dir, clientPid, submitterPid, volunteerPids, from, to }) {
  const read = pid => readFileSync(join(dir, `${pid}.trace`), 'utf8').trim().split('\n').map(line => {
    const [kind, a, b, t] = line.split(' ')
    return { kind, a, b, t: Number(t) }
  })
  const present = new Set(readdirSync(dir))
  for (const pid of [clientPid, submitterPid, ...volunteerPids]) {
    if (!present.has(`${pid}.trace`)) throw new Error(`no trace of process ${pid} in ${dir}`)
  }
  const client = read(clientPid)
  const submitter = read(submitterPid)
  const volunteers = volunteerPids.map(read)
  const httpPort = submitter.find(e => e.kind === 'R')?.a
  if (httpPort == null) throw new Error('the submitter traced no control request')
  const next = (events, t, test) => events.find(e => e.t >= t && test(e))
  const starts = client.filter(e => e.kind === 'W' && e.b === httpPort && e.t >= from && e.t <= to)
  const trips = []
  for (let i = 0; i + 1 < starts.length; i++) {
    const start = starts[i]
    const end = starts[i + 1].t
    const port = start.a
    const request = next(submitter, start.t, e => e.kind === 'R' && e.a === httpPort && e.b === port)
    const offer = request && next(submitter, request.t, e => e.kind === 'W' && e.a !== httpPort)
    const volunteer = offer && volunteers.find(v => v.some(e => e.a === offer.b))
    const offerIn = volunteer && next(volunteer, offer.t, e => e.kind === 'D' && e.a === offer.b)
    const runnerOut = offerIn && next(volunteer, offerIn.t, e => e.kind === 'P')
    const resultOut = runnerOut && next(volunteer, runnerOut.t, e => e.kind === 'W' && e.a === offer.b)
    const resultIn = resultOut && next(submitter, resultOut.t, e => e.kind === 'D' && e.b === offer.b)
    const lineOut = resultIn && next(submitter, resultIn.t, e => e.kind === 'W' && e.a === httpPort && e.b === port)
    const lineIn = lineOut && next(client, lineOut.t, e => e.kind === 'D' && e.a === port)
    if (lineIn == null || lineIn.t > end) continue // a trip the notes cannot follow (it ran on no volunteer, say)
    trips.push({
      'client -> submitter': request.t - start.t,
      'submitter: request -> offer written': offer.t - request.t,
      'submitter -> volunteer': offerIn.t - offer.t,
      'volunteer: offer -> runner answered (IPC both ways, the run)': runnerOut.t - offerIn.t,
      'volunteer: runner answered -> result written': resultOut.t - runnerOut.t,
      'volunteer -> submitter': resultIn.t - resultOut.t,
      'submitter: result -> client line written': lineOut.t - resultIn.t,
      'submitter -> client': lineIn.t - lineOut.t,
      'client: line -> next request written': end - lineIn.t,
      trip: end - start.t
    })
  }
  return trips
}
