// The worker's signer policy inside a private swarm: accept only signers on
// the swarm's trust list, kept fresh by re-reading trust.json on a timer and
// on demand, so `trust add` on a running daemon takes effect without a restart.
import { loadSwarm } from './store.js'

export interface TrustPolicyInit {
  dataDir: string
  /** The swarm's name; its trust list is `<dataDir>/swarms/<name>/trust.json`. */
  name: string
  /** Accept every signer (bundles still run sandboxed). @default false */
  runUntrusted?: boolean
  /** How often the trust list is re-read, ms. @default 2000 */
  refreshMs?: number
  /** Told when a re-read fails; the last good list stays in force. */
  onError?: (err: Error) => void
}

export interface TrustPolicy {
  /** True to run work signed by `peerId`, else the reason the submitter is told. Synchronous: a worker asks it per announcement. */
  acceptSigner(peerId: string): true | string
  /** The trust list in force now. */
  trusted(): string[]
  readonly runUntrusted: boolean
  /** Re-reads the trust list now and returns it. */
  reload(): Promise<string[]>
  /** Stops the refresh timer. */
  stop(): void
}

/**
 * Loads the swarm's trust list and starts re-reading it.
 *
 * @throws what loadSwarm throws (not a member, key file unsafe or damaged)
 */
export async function openTrustPolicy (init: TrustPolicyInit): Promise<TrustPolicy> {
  const { dataDir, name } = init
  const runUntrusted = init.runUntrusted ?? false
  let trusted = new Set((await loadSwarm(dataDir, name)).trusted)
  let reloading: Promise<string[]> | undefined

  const reload = async (): Promise<string[]> => {
    reloading ??= loadSwarm(dataDir, name)
      .then(swarm => {
        trusted = new Set(swarm.trusted)
        return [...trusted]
      })
      .finally(() => { reloading = undefined })
    return reloading
  }

  const timer = setInterval(() => {
    reload().catch((err: Error) => { init.onError?.(err) })
  }, init.refreshMs ?? 2000)
  timer.unref?.()

  return {
    runUntrusted,
    acceptSigner (peerId: string): true | string {
      if (runUntrusted || trusted.has(peerId)) {
        return true
      }
      return `signer ${peerId} is not on this volunteer's trust list for swarm "${name}"; a member who trusts it runs \`idlegrid trust add ${peerId} --swarm ${name}\``
    },
    trusted: () => [...trusted],
    reload,
    stop: () => { clearInterval(timer) }
  }
}
