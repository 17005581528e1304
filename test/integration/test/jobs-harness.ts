// Helpers of the jobs-* integration suites: a submitter node with its job
// service, volunteers with a real sandbox pool, and signed bundles of the
// fixture job.
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { startNode, tempDir } from '@idlegrid/test-utils'
import { afterEach } from 'vitest'
import { buildBundle, signBundle } from '@idlegrid/bundle'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { createSubmitter } from '@idlegrid/jobs'
import { createWorker } from '@idlegrid/worker'
import { createSandboxPool } from '@idlegrid/sandbox-host'
import type { SignedBundle } from '@idlegrid/bundle'
import type { Submitter, SubmitterInit } from '@idlegrid/jobs'
import type { Worker, WorkerInit } from '@idlegrid/worker'
import type { SandboxPool } from '@idlegrid/sandbox-host'
import type { TaskRequirements } from '@idlegrid/interface'
import type { IdleGridNode } from '@idlegrid/node'
import type { TempDir } from '@idlegrid/test-utils'
type PrivateKey = Awaited<ReturnType<typeof generateKeyPair>>

export const FIXTURE_JOB = fileURLToPath(new URL('./jobs-fixture-job.ts', import.meta.url))

export interface SubmitterSide {
  node: IdleGridNode
  key: PrivateKey
  submitter: Submitter
  stop(): Promise<void>
}

/** A node plus a submitter on `dir/jobs.db`; pass `key` to restart the same identity. */
export async function startSubmitter (dir: string, init: Partial<SubmitterInit> & { key?: PrivateKey, bootstrap?: string[] } = {}): Promise<SubmitterSide> {
  const key = init.key ?? await generateKeyPair('Ed25519')
  const node = await startNode({ privateKey: key, bootstrap: init.bootstrap ?? [], limits: { maxCores: 1 } })
  const submitter = await createSubmitter({ node, dbPath: join(dir, 'jobs.db'), announceIntervalMs: 300, leaseMarginMs: 2000, ...init })
  return {
    node,
    key,
    submitter,
    stop: async () => {
      await submitter.stop()
      await node.stop()
    }
  }
}

export interface Volunteer {
  node: IdleGridNode
  pool: SandboxPool
  worker: Worker
  stop(): Promise<void>
}

/** A node giving `cores` slots, a sandbox pool as large, and a worker joined to `bootstrap`. */
export async function startVolunteer (dir: string, bootstrap: string, init: Partial<WorkerInit> & { cores?: number } = {}): Promise<Volunteer> {
  const cores = init.cores ?? 1
  const node = await startNode({ bootstrap: [bootstrap], limits: { maxCores: cores } })
  const pool = createSandboxPool({ slots: cores, runnerHeapMb: 96 })
  const worker = await createWorker({ node, sandbox: pool, dbPath: join(dir, 'outbox.db'), bundleCacheDir: join(dir, 'bundles'), outboxRetryMs: 300, ...init })
  let stopped = false
  return {
    node,
    pool,
    worker,
    stop: async () => {
      if (stopped) return
      stopped = true
      await worker.stop()
      await node.stop()
      await pool.stop()
    }
  }
}

/** The fixture job, built and signed by the submitter. */
export async function fixtureBundle (side: SubmitterSide, requirements: Partial<TaskRequirements> = {}, batch = 1): Promise<SignedBundle> {
  const bundle = await buildBundle(FIXTURE_JOB, {
    submitter: side.node.peerId,
    // generous: the test machines are shared and a cold runner can take seconds
    requirements: { memoryMb: 64, timeoutMs: 20_000, ...requirements },
    batch
  })
  return await signBundle(bundle, side.key)
}

/** Collects every record result of a job, in input order. */
export async function allResults (submitter: Submitter, jobId: string, signal = AbortSignal.timeout(25_000)): Promise<unknown[]> {
  const out: unknown[] = []
  for await (const r of submitter.results(jobId, { signal })) {
    out.push('value' in r ? r.value : { error: r.error })
  }
  return out
}

/**
 * What one test made and must undo: temporary folders and stop functions,
 * stopped in reverse order and removed after each test of the calling suite.
 */
export function testScope (prefix: string): { dir: () => Promise<string>, defer: (stop: () => Promise<void>) => void } {
  let dirs: TempDir[] = []
  let stops: Array<() => Promise<void>> = []
  afterEach(async () => {
    for (const stop of stops.reverse()) {
      await stop().catch(() => {})
    }
    await Promise.allSettled(dirs.map(async d => { await d.remove() }))
    dirs = []
    stops = []
  })
  return {
    async dir () {
      const d = await tempDir(prefix)
      dirs.push(d)
      return d.path
    },
    defer (stop) {
      stops.push(stop)
    }
  }
}
