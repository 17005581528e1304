// Starts a daemon on a data directory: lock, identity, node, sandbox pool,
// worker, submitter, control API and control files, in that order, undoing
// what was done if a step fails; and stops it again in reverse.
import { chmod, mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { createControlServer, generateToken, removeControlFiles, writeControlFiles } from '@idlegrid/control-api'
import { createNode } from '@idlegrid/node'
import { loadOrCreateIdentity } from '../identity.js'
import { acquireLock } from '../lock.js'
import { creditRoutes, logCreditEvents } from './credit-routes.js'
import { logJobEvents, trackJobActivity } from './job-activity.js'
import { listen } from './listen.js'
import { plural, megabytes } from '../output.js'
import { DAEMON_ROUTES } from './routes.js'
import { openDaemonSwarm } from './swarm.js'
import type { DaemonConfig } from '../config.js'
import type { DaemonJobs } from './job-routes.js'
import type { DaemonContext, RouteFactory } from './routes.js'
import type { ControlServer, RouteTable } from '@idlegrid/control-api'
import type { IdleGridNode } from '@idlegrid/node'

export interface StartDaemonInit {
  dataDir: string
  config: DaemonConfig
  version: string
  /** Receives one human line per notable event. */
  log: (line: string) => void
  /** Route factories to mount. Default DAEMON_ROUTES and the credit routes. */
  routes?: RouteFactory[]
  /**
   * The worker's signer policy: true to run work signed by this PeerId, else
   * the reason the submitter is told. Default: the swarm's trust policy in a
   * private swarm, else accept every signer (task code always runs
   * sandboxed). Can be replaced later with `daemon.setAcceptSigner()`.
   */
  acceptSigner?: (peerId: string) => boolean | string
  /** Timings of the job services; tests shorten them. Defaults: the packages'. */
  jobs?: DaemonJobTimings
}

/** Timings of the submitter and worker a daemon runs. */
export interface DaemonJobTimings {
  /** Submitter: how often pending jobs are announced again, ms. @default 5000 */
  announceIntervalMs?: number
  /** Submitter: lease time on top of a task's time limit, ms. @default 5000 */
  leaseMarginMs?: number
  /** Worker: how often undelivered results are retried, ms. @default 5000 */
  outboxRetryMs?: number
}

/** Files and folders of the job services in the data directory. */
export const JOB_FILES = { submitter: 'jobs.db', worker: 'worker.db', bundles: 'bundles', ledger: 'ledger.sqlite' } as const

export interface Daemon {
  node: IdleGridNode
  control: ControlServer
  peerId: string
  jobs: DaemonJobs
  /** Replaces the worker's signer policy (see StartDaemonInit.acceptSigner). */
  setAcceptSigner(policy: (peerId: string) => boolean | string): void
  /** Stops everything and removes control.json, the token and the lock. Safe to call twice. */
  stop(): Promise<void>
}

/**
 * @throws DaemonRunningError, IdentityError, AddressInUseError, ConfigError,
 * InvalidMultiaddrError: each before control.json is written
 */
export async function startDaemon (init: StartDaemonInit): Promise<Daemon> {
  const { dataDir, config, log } = init
  // Checked before anything is written: a swarm the node is not in is bad input.
  const swarm = config.swarm != null ? await openDaemonSwarm({ dataDir, name: config.swarm, runUntrusted: config.runUntrusted, log }) : undefined
  let lock
  try {
    await mkdir(dataDir, { recursive: true, mode: 0o700 })
    lock = await acquireLock(dataDir)
  } catch (err) {
    swarm?.stop()
    throw err
  }
  const undo: Array<() => Promise<void>> = [async () => { await lock.release() }, async () => { swarm?.stop() }]
  const rollback = async (): Promise<void> => {
    for (const step of undo.reverse()) {
      await step().catch(() => {})
    }
  }

  try {
    const identity = await loadOrCreateIdentity(dataDir)
    if (identity.created) {
      log(`created a new identity ${identity.peerId} in ${identity.path}`)
    }

    const node = await createNode({
      privateKey: identity.privateKey,
      listen: config.listen,
      bootstrap: swarm?.bootstrapFor(identity.peerId, config.bootstrap) ?? config.bootstrap,
      ...(swarm != null ? { swarmKey: swarm.key } : {}),
      mdns: config.mdns,
      limits: {
        ...(config.maxCores != null ? { maxCores: config.maxCores } : {}),
        ...(config.maxMemoryMb != null ? { maxMemoryMb: config.maxMemoryMb } : {}),
        shareGpu: config.shareGpu
      },
      ...(config.advertiseIntervalMs != null ? { advertiseIntervalMs: config.advertiseIntervalMs } : {})
    })
    undo.push(async () => { await node.stop() })
    log(`node ${node.peerId} started`)
    if (swarm != null) {
      log(`in private swarm "${swarm.name}" (id ${swarm.id}, DHT ${node.dhtProtocol}); ${swarm.policy.runUntrusted ? 'running bundles of any member (--run-untrusted)' : `running bundles of ${plural(swarm.policy.trusted().length, 'trusted signer')} only`}`)
    }
    for (const addr of node.addresses()) {
      log(`listening on ${addr}`)
    }
    const detachEvents = logNodeEvents(node, log)
    undo.push(async () => { detachEvents() })

    // The job services. Tasks run in forked sandbox runners, one per slot;
    // the worker takes slots from the node's slot table, so what the node
    // advertises follows what runs.
    let acceptSigner = init.acceptSigner ?? (swarm != null ? (peerId: string) => swarm.policy.acceptSigner(peerId) : () => true)
    const { createSandboxPool } = await import('@idlegrid/sandbox-host')
    const pool = createSandboxPool({ slots: node.slots.total })
    undo.push(async () => { await pool.stop() })
    // One ledger per node, shared by the submitter (issues receipts) and the
    // worker (accepts them); pushed before both so it closes after they stop.
    const { openLedger } = await import('@idlegrid/ledger')
    const ledger = openLedger({ path: join(dataDir, JOB_FILES.ledger), privateKey: identity.privateKey })
    undo.push(async () => { ledger.close() })
    const { createWorker } = await import('@idlegrid/worker')
    const worker = await createWorker({
      ledger,
      preferGivers: config.preferGivers,
      node,
      sandbox: pool,
      dbPath: join(dataDir, JOB_FILES.worker),
      bundleCacheDir: join(dataDir, JOB_FILES.bundles),
      policy: { acceptSigner: peerId => acceptSigner(peerId) },
      ...(init.jobs?.outboxRetryMs != null ? { outboxRetryMs: init.jobs.outboxRetryMs } : {})
    })
    undo.push(async () => { await worker.stop() })
    const { createSubmitter, MAX_JOBS_LISTED } = await import('@idlegrid/jobs')
    const submitter = await createSubmitter({
      node,
      ledger,
      dbPath: join(dataDir, JOB_FILES.submitter),
      ...(init.jobs?.announceIntervalMs != null ? { announceIntervalMs: init.jobs.announceIntervalMs } : {}),
      ...(init.jobs?.leaseMarginMs != null ? { leaseMarginMs: init.jobs.leaseMarginMs } : {})
    })
    undo.push(async () => { await submitter.stop() })
    const activity = trackJobActivity(submitter)
    const detachJobLog = logJobEvents(submitter, worker, log)
    undo.push(async () => { detachJobLog(); activity.stop() })
    const detachCreditLog = logCreditEvents(submitter, worker, log)
    undo.push(async () => { detachCreditLog() })
    const jobs: DaemonJobs = { submitter, worker, activity }
    const unfinished = submitter.jobs({ state: 'running', limit: MAX_JOBS_LISTED })
    if (unfinished.length > 0) {
      log(`resuming ${plural(unfinished.length, 'unfinished job')}: ${unfinished.map(j => j.id).join(', ')}`)
    }

    const startedAt = new Date()
    const context: DaemonContext = { node, dataDir, config, privateKey: identity.privateKey, version: init.version, startedAt, jobs, ...(swarm != null ? { swarm } : {}) }
    const routes = mergeRoutes((init.routes ?? [...DAEMON_ROUTES, creditRoutes(ledger)]).map(factory => factory(context)))
    const token = generateToken()
    const control = await createControlServer({ token, routes, host: '127.0.0.1', port: config.controlPort })
    undo.push(async () => { await control.close() })

    await writeControlFiles(dataDir, { version: 1, host: control.host, port: control.port, pid: process.pid, peerId: node.peerId, startedAt: startedAt.toISOString() }, token)
    undo.push(async () => { await removeControlFiles(dataDir, process.pid) })
    // mkdir's mode does not apply to a directory that already existed.
    await chmod(dataDir, 0o700).catch(() => {})

    const limits = node.capacity().limits
    log(`owner limits: ${plural(limits.maxCores, 'core')}, ${megabytes(limits.maxMemoryMb)} memory, GPU ${limits.shareGpu ? 'shared' : 'not shared'}`)
    log(`control API on ${control.url} (token in ${dataDir}/control-token)`)

    let stopping: Promise<void> | undefined
    return {
      node,
      control,
      peerId: node.peerId,
      jobs,
      setAcceptSigner (policy) {
        acceptSigner = policy
      },
      async stop () {
        stopping ??= rollback()
        await stopping
      }
    }
  } catch (err) {
    await rollback()
    throw err
  }
}

function mergeRoutes (tables: RouteTable[]): RouteTable {
  const merged: RouteTable = {}
  for (const table of tables) {
    for (const [key, handler] of Object.entries(table)) {
      if (Object.hasOwn(merged, key)) {
        throw new TypeError(`two route factories define "${key}"`)
      }
      merged[key] = handler
    }
  }
  return merged
}

/** One line per peer joined or left, and per change in what is advertised. */
function logNodeEvents (node: IdleGridNode, log: (line: string) => void): () => void {
  let lastPublished = ''
  const joined = (evt: CustomEvent<string>): void => { log(`peer joined ${evt.detail} (${plural(node.peers().length, 'peer')} connected)`) }
  const left = (evt: CustomEvent<string>): void => { log(`peer left ${evt.detail} (${plural(node.peers().length, 'peer')} connected)`) }
  const published = (evt: CustomEvent<{ keys: string[], withdrawn: boolean }>): void => {
    const c = node.capacity()
    const line = evt.detail.withdrawn
      ? `capacity withdrawn (no free slot): ${evt.detail.keys.join(', ')}`
      : `capacity published: ${plural(c.freeCores, 'free core')}, ${megabytes(c.freeMemoryMb)} free memory, ${plural(c.freeGpus, 'GPU')} (${evt.detail.keys.join(', ')})`
    // Re-announcing the same capacity every interval is not news.
    if (line !== lastPublished) {
      lastPublished = line
      log(line)
    }
  }
  return listen(node, { 'peer:joined': joined, 'peer:left': left, 'capacity:published': published })
}
