// `idlegrid daemon`: runs the node in the foreground until SIGINT/SIGTERM.
import { EXIT } from '../exit-codes.js'
import { turnWriter } from '../output.js'
import { VERSION } from '../version.js'
import type { Command } from '../command.js'

/** How long a clean stop may take before the daemon gives up on it. */
const STOP_TIMEOUT_MS = 10_000

export const daemonCommand: Command = {
  name: 'daemon',
  summary: 'run this machine\'s IdleGrid node in the foreground',
  usage: 'daemon [--listen ADDR]... [--bootstrap ADDR]... [--max-cores N] [--max-memory MB] [--share-gpu] [--mdns] [--swarm NAME [--run-untrusted]] [--prefer-givers]',
  options: {
    listen: { type: 'string', multiple: true, valueName: 'ADDR', description: 'multiaddr to listen on (default /ip4/127.0.0.1/tcp/0)' },
    bootstrap: { type: 'string', multiple: true, valueName: 'ADDR', description: 'peer to join through, ending in /p2p/<PeerId>' },
    mdns: { type: 'boolean', description: 'find peers on the local network (--no-mdns to turn off)' },
    'max-cores': { type: 'string', valueName: 'N', description: 'cores given to tasks (default: all but one)' },
    'max-memory': { type: 'string', valueName: 'MB', description: 'memory in MiB given to tasks (default: half of total)' },
    'share-gpu': { type: 'boolean', description: 'offer GPUs to tasks (--no-share-gpu to turn off)' },
    'control-port': { type: 'string', valueName: 'PORT', description: 'control API port on 127.0.0.1 (default 0: any free port)' },
    'advertise-interval': { type: 'string', valueName: 'MS', description: 'how often capacity is re-advertised, ms (default 150000)' },
    swarm: { type: 'string', valueName: 'NAME', description: 'run in this private swarm (see `idlegrid swarm show`)' },
    'run-untrusted': { type: 'boolean', description: 'in a swarm, run bundles of any member, not only trusted signers (docs/private-swarms.md)' },
    'prefer-givers': { type: 'boolean', description: 'as a volunteer, lease first from submitters that gave this node the most compute (--no-prefer-givers to turn off)' },
    verbose: { type: 'boolean', short: 'v', description: 'debug logs of idlegrid:* on stderr (or DEBUG=idlegrid:*)' }
  },
  details: `Settings come from <data-dir>/config.json, then IDLEGRID_* environment
variables, then flags; later wins (docs/config.md). The daemon writes
<data-dir>/control.json and control-token when ready, and removes them on a
clean stop (SIGINT or SIGTERM, exit 0). With --json, each log line is a JSON
object {time, event, message}.`,

  async run ({ values, dataDir, json, io, signal }) {
    // Loaded here, not at the top, so client commands start faster.
    const { loadConfig } = await import('../config.js')
    const { enable } = await import('@libp2p/logger')
    const { config, origins } = await loadConfig({ dataDir, env: io.env, flags: values as Record<string, string | boolean | string[] | undefined> })
    if (config.verbose) {
      enable(['idlegrid:*', io.env.DEBUG].filter(Boolean).join(','))
    }
    // Lines of one turn leave together at its end: the events logged (a job
    // submitted, leased, done) sit on the path of the work itself.
    const out = turnWriter(io.stdout)
    const flush = out.flush
    process.once('exit', flush)
    const log = (message: string, event = 'info'): void => {
      const time = new Date().toISOString()
      out.line(json ? JSON.stringify({ time, event, message }) + '\n' : `${time} ${message}\n`)
    }
    if (config.verbose) {
      log(`config: ${Object.entries(config).map(([k, v]) => `${k}=${JSON.stringify(v)} (${origins[k as keyof typeof origins]})`).join(', ')}`, 'config')
    }
    if (signal.aborted) {
      return EXIT.OK
    }

    const { startDaemon } = await import('../daemon/start-daemon.js')
    const daemon = await startDaemon({ dataDir, config, version: VERSION, log })
    log(`ready; data dir ${dataDir}`, 'ready')

    await new Promise<void>(resolve => {
      if (signal.aborted) resolve()
      signal.addEventListener('abort', () => { resolve() }, { once: true })
    })
    log(`received ${String(signal.reason ?? 'signal')}, stopping`, 'stopping')
    const stopped = await Promise.race([
      daemon.stop().then(() => true),
      new Promise<false>(resolve => setTimeout(() => { resolve(false) }, STOP_TIMEOUT_MS).unref())
    ])
    if (!stopped) {
      flush()
      io.stderr(`idlegrid: the node did not stop within ${STOP_TIMEOUT_MS / 1000} s; exiting anyway (control.json may be left behind)\n`)
      return EXIT.FAILURE
    }
    log('stopped', 'stopped')
    flush()
    return EXIT.OK
  }
}
