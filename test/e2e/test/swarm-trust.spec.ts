// The trust list of a private swarm with real daemons, through `idlegrid`:
// a member refuses a job signed by a peer not on its trust list and the
// submitter sees why in `job <id>`; after `trust add` on the running
// volunteer, the same job runs to the end without a restart.
import { rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runCli, runCliJson, spawnDaemon, tempDataDir, waitFor, waitForControl } from '../src/index.js'
import type { DaemonProcess } from '../src/index.js'

const JOB = fileURLToPath(new URL('./swarm-trust-job.ts', import.meta.url))

interface Refusal { worker: string, reason: string }
interface Detail { state: string, records: { total: number, ok: number }, refusals?: Refusal[] }

describe('the trust list of a private swarm', { timeout: 150_000 }, () => {
  const daemons: DaemonProcess[] = []
  const dirs: string[] = []
  let volunteer = { dataDir: '', peerId: '' }
  let submitter = { dataDir: '', peerId: '' }

  beforeAll(async () => {
    const [vDir, sDir] = await Promise.all([tempDataDir('trust-v'), tempDataDir('trust-s')])
    dirs.push(vDir, sDir)
    // the volunteer creates the swarm, so only it is trusted; the submitter joins
    const created = await runCliJson<{ invite: string, creator: string }>(['swarm', 'create', 'lab', '--data-dir', vDir])
    await runCliJson(['swarm', 'join', created.invite, '--data-dir', sDir])
    const v = spawnDaemon(vDir, ['--swarm', 'lab', '--max-cores', '1', '--advertise-interval', '300'])
    daemons.push(v)
    await waitForControl(v)
    const vAddress = /listening on (\S+)/.exec(v.output())?.[1] ?? ''
    const s = spawnDaemon(sDir, ['--swarm', 'lab', '--max-cores', '1', '--advertise-interval', '300', '--bootstrap', vAddress])
    daemons.push(s)
    await waitForControl(s)
    volunteer = { dataDir: vDir, peerId: created.creator }
    submitter = { dataDir: sDir, peerId: (await runCli(['id', '--data-dir', sDir])).stdout.trim() }
    await waitFor(async () => (await runCliJson<Array<{ peerId: string }>>(['peers', '--data-dir', sDir])).some(p => p.peerId === volunteer.peerId) ? true : undefined,
      'the submitter to connect to the volunteer', 60_000)
  }, 180_000)

  afterAll(async () => {
    await Promise.all(daemons.map(async d => { await d.stop('SIGKILL') }))
    await Promise.all(dirs.map(async d => { await rm(d, { recursive: true, force: true }) }))
  })

  it('refuses an untrusted signer\'s job with a reason the submitter sees, and runs it after trust add', async () => {
    const input = join(submitter.dataDir, 'input.jsonl')
    await writeFile(input, '{"n":1}\n{"n":2}\n{"n":3}\n')
    const submitted = await runCli(['submit', JOB, '--input', input, '--detach', '--data-dir', submitter.dataDir])
    expect(submitted.code, submitted.stderr).toBe(0)
    const jobId = submitted.stdout.trim()

    // the volunteer answered the announcement with a refusal that names the fix
    const refused = await waitFor(async () => {
      const detail = await runCliJson<Detail>(['job', jobId, '--data-dir', submitter.dataDir])
      return detail.refusals?.find(r => r.worker === volunteer.peerId) != null ? detail : undefined
    }, 'the volunteer\'s refusal to reach the submitter', 60_000, 300)
    expect(refused.state).toBe('running')
    expect(refused.records.ok).toBe(0)
    expect(refused.refusals).toEqual([{
      worker: volunteer.peerId,
      reason: `signer ${submitter.peerId} is not on this volunteer's trust list for swarm "lab"; a member who trusts it runs \`idlegrid trust add ${submitter.peerId} --swarm lab\``,
      at: expect.any(Number)
    }])

    const text = await runCli(['job', jobId, '--data-dir', submitter.dataDir])
    expect(text.stdout).toContain(`refused by:\n  ${volunteer.peerId}: signer ${submitter.peerId} is not on this volunteer's trust list`)

    // trusting the submitter on the running volunteer is enough: no restart
    const trusted = await runCli(['trust', 'add', submitter.peerId, '--data-dir', volunteer.dataDir])
    expect(trusted.code, trusted.stderr).toBe(0)
    expect(trusted.stdout).toContain('the running daemon uses the new list now')

    const done = await waitFor(async () => {
      const detail = await runCliJson<Detail>(['job', jobId, '--data-dir', submitter.dataDir])
      return detail.state === 'running' ? undefined : detail
    }, 'the job to end after trust add', 90_000, 500)
    expect(done).toMatchObject({ state: 'done', records: { total: 3, ok: 3 } })
    // a volunteer that accepted is no longer listed as refusing
    expect(done.refusals).toEqual([])
    const results = await runCli(['job', 'results', jobId, '--data-dir', submitter.dataDir])
    expect(results.code, results.stderr).toBe(0)
    expect(results.stdout.trim().split('\n').map(l => JSON.parse(l))).toEqual([{ n: 1, double: 2 }, { n: 2, double: 4 }, { n: 3, double: 6 }])
  })
})
