// The daemon inside a private swarm: opens the swarm that config names (key,
// bootstrap list, trust policy for the worker) and the control routes that
// show it and make a changed trust list take effect at once.
import { ConfigError, NotFoundError } from '@idlegrid/interface'
import { dhtProtocol } from '@idlegrid/node'
import { loadSwarm, openTrustPolicy } from '@idlegrid/swarm'
import type { RouteFactory } from './routes.js'
import type { TrustPolicy } from '@idlegrid/swarm'

/** Control API paths of the swarm routes. */
export const SWARM_ROUTES = {
  info: '/v1/swarm',
  reloadTrust: '/v1/swarm/trust/reload'
} as const

/** What `GET /v1/swarm` answers. */
export interface SwarmInfo {
  name: string
  id: string
  dhtProtocol: string
  bootstrap: string[]
  trusted: string[]
  runUntrusted: boolean
}

export interface DaemonSwarm {
  name: string
  id: string
  /** The PSK file bytes, for createNode's swarmKey. */
  key: Uint8Array
  /** The swarm's own bootstrap addresses. */
  bootstrap: string[]
  /** The worker's signer policy. */
  policy: TrustPolicy
  /** The node's bootstrap list: flags/config first, then the swarm's, never this node itself. */
  bootstrapFor(peerId: string, extra: string[]): string[]
  info(): SwarmInfo
  stop(): void
}

export interface OpenDaemonSwarmInit {
  dataDir: string
  name: string
  runUntrusted: boolean
  /** Told when re-reading the trust list fails (the last good list stays). */
  log: (line: string) => void
}

/**
 * Opens the swarm a daemon runs in, before anything is written.
 *
 * @throws ConfigError when the node is not in that swarm or its files are unsafe or damaged
 */
export async function openDaemonSwarm (init: OpenDaemonSwarmInit): Promise<DaemonSwarm> {
  const { dataDir, name } = init
  let swarm
  let policy: TrustPolicy
  try {
    swarm = await loadSwarm(dataDir, name)
    let lastError = ''
    policy = await openTrustPolicy({
      dataDir,
      name,
      runUntrusted: init.runUntrusted,
      onError: err => {
        // once per distinct problem, not every refresh
        if (err.message !== lastError) {
          lastError = err.message
          init.log(`cannot re-read the trust list, keeping the last one: ${err.message}`)
        }
      }
    })
  } catch (err) {
    if ((err as Error).name === 'NotFoundError' || (err as Error).name === 'InvalidInputError') {
      throw new ConfigError(`--swarm ${name}: ${(err as Error).message}`, { cause: err })
    }
    throw err
  }
  const { id, key, bootstrap } = swarm
  const protocol = dhtProtocol(key)
  return {
    name,
    id,
    key,
    bootstrap,
    policy,
    bootstrapFor (peerId, extra) {
      const own = `/p2p/${peerId}`
      return [...new Set([...extra, ...bootstrap])].filter(addr => !addr.endsWith(own))
    },
    info: () => ({ name, id, dhtProtocol: protocol, bootstrap, trusted: policy.trusted(), runUntrusted: policy.runUntrusted }),
    stop: () => { policy.stop() }
  }
}

function notInSwarm (): NotFoundError {
  return new NotFoundError('this daemon runs in the open network, not in a private swarm; start it with `idlegrid daemon --swarm NAME`')
}

/** GET /v1/swarm and POST /v1/swarm/trust/reload. */
export const swarmRoutes: RouteFactory = ({ swarm }) => ({
  [`GET ${SWARM_ROUTES.info}`]: (): SwarmInfo => {
    if (swarm == null) throw notInSwarm()
    return swarm.info()
  },
  [`POST ${SWARM_ROUTES.reloadTrust}`]: async (): Promise<SwarmInfo> => {
    if (swarm == null) throw notInSwarm()
    await swarm.policy.reload()
    return swarm.info()
  }
})
