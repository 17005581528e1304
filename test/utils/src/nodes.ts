// Starting groups of real IdleGrid nodes on 127.0.0.1 (or the memory
// transport) in a line, tree or star, each joined only to its parent.
import { createNode } from '@idlegrid/node'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { waitFor } from './wait.js'
import type { MachineInfo } from '@idlegrid/interface'
import type { IdleGridNode, NodeInit } from '@idlegrid/node'

/** A machine that looks the same on every test host. */
export function testMachine (overrides: Partial<MachineInfo> = {}): MachineInfo {
  return {
    cpuModel: 'IdleGrid Test CPU',
    cpuCores: 4,
    totalMemoryMb: 8192,
    freeMemoryMb: 6000,
    gpus: [],
    ...overrides
  }
}

/** Init settings that make DHT records refresh and lapse within seconds. */
export const FAST_DHT: Pick<NodeInit, 'advertiseIntervalMs' | 'providerTtlMs' | 'dialTimeoutMs'> = {
  advertiseIntervalMs: 250,
  providerTtlMs: 1500,
  dialTimeoutMs: 2000
}

export type Topology = 'line' | 'tree' | 'star'

export interface StartNodesOptions {
  /** How node i picks its one bootstrap peer: line i-1, tree floor((i-1)/2), star 0. @default 'line' */
  topology?: Topology
  /** Settings for every node (privateKey, bootstrap and machine are filled in). */
  init?: Partial<NodeInit>
  /** Per-node settings, merged over `init`. */
  perNode?: (index: number) => Partial<NodeInit>
  /** Bootstrap node 0 to these nodes (e.g. to grow an existing group). */
  joinTo?: IdleGridNode
}

/** Index of the node that node `i` bootstraps to. */
export function parentOf (i: number, topology: Topology): number {
  if (topology === 'line') return i - 1
  if (topology === 'tree') return Math.floor((i - 1) / 2)
  return 0
}

/** A fresh node with a new Ed25519 key, a test machine and fast DHT timers. */
export async function startNode (init: Partial<NodeInit> = {}): Promise<IdleGridNode> {
  return createNode({
    privateKey: await generateKeyPair('Ed25519'),
    machine: testMachine(),
    ...FAST_DHT,
    ...init
  })
}

/**
 * Starts `n` nodes one after another, each bootstrapped only to its parent,
 * and waits until each is connected to it. On failure every started node is
 * stopped before the error is thrown.
 */
export async function startNodes (n: number, options: StartNodesOptions = {}): Promise<IdleGridNode[]> {
  const topology = options.topology ?? 'line'
  const nodes: IdleGridNode[] = []
  try {
    for (let i = 0; i < n; i++) {
      const parent = i === 0 ? options.joinTo : nodes[parentOf(i, topology)]
      const node = await startNode({
        ...options.init,
        ...options.perNode?.(i),
        bootstrap: parent != null ? [parent.addresses()[0]] : []
      })
      nodes.push(node)
      if (parent != null) {
        await waitFor(() => node.peers().some(p => p.peerId === parent.peerId), { message: `node ${i} to connect to its parent` })
      }
    }
  } catch (err) {
    await stopNodes(nodes)
    throw err
  }
  return nodes
}

/** Stops every node, even when some fail to stop. */
export async function stopNodes (nodes: Array<IdleGridNode | undefined>): Promise<void> {
  await Promise.allSettled(nodes.map(async node => node?.stop()))
}
