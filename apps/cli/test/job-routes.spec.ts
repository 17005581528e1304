// The daemon's job routes, in-process: a submitter daemon and a volunteer
// daemon (real nodes on 127.0.0.1, real sandbox runners, real SQLite),
// driven through the typed control client.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createControlClient } from '@idlegrid/control-api'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEFAULT_CONFIG } from '../src/config.js'
import { startDaemon } from '../src/daemon/start-daemon.js'
import { runCli } from '../src/cli.js'
import { signingCache } from '../src/daemon/job-routes.js'
import { readIdentity } from '../src/identity.js'
import type { Daemon } from '../src/daemon/start-daemon.js'
import type { ControlClient, JobEvent, RecordResult } from '@idlegrid/control-api'

const JOB = fileURLToPath(new URL('../../../test/e2e/test/jobs-fixtures/square.ts', import.meta.url))
const FAST = { announceIntervalMs: 300, outboxRetryMs: 300, leaseMarginMs: 2_000 }

describe('job routes', { timeout: 60_000 }, () => {
  const dirs: string[] = []
  const daemons: Daemon[] = []
  const lines: string[] = []
  let client: ControlClient

  beforeAll(async () => {
    const start = async (bootstrap: string[]): Promise<Daemon> => {
      const dataDir = await mkdtemp(join(tmpdir(), 'idlegrid-job-routes-'))
      dirs.push(dataDir)
      const daemon = await startDaemon({ dataDir, config: { ...DEFAULT_CONFIG, maxCores: 1, advertiseIntervalMs: 300, bootstrap }, version: 't', log: l => lines.push(l), jobs: FAST })
      daemons.push(daemon)
      return daemon
    }
    const submitter = await start([])
    await start([submitter.node.addresses()[0]])
    client = createControlClient({ dataDir: dirs[0] })
  }, 60_000)

  afterAll(async () => {
    for (const d of daemons.reverse()) await d.stop()
    await Promise.all(dirs.map(async d => { await rm(d, { recursive: true, force: true }) }))
  })

  it('runs a submitted job file on the volunteer: results as they arrive, in input order, and the final job', async () => {
    const inputs = Array.from({ length: 6 }, (_, n) => ({ n, fail: n === 4 }))
    const job = await client.submit(JOB, inputs, { timeoutMs: 20_000, memoryMb: 64 })
    expect(job.id).toMatch(/^[0-9a-f]{16}$/)

    const events: JobEvent[] = []
    const watching = (async () => { for await (const e of job.events({ intervalMs: 50, tasks: true })) events.push(e) })()
    const arrived: RecordResult[] = []
    for await (const r of job) arrived.push(r)
    expect(arrived.map(r => r.index).sort()).toEqual([0, 1, 2, 3, 4, 5])

    const ordered = await job.results()
    expect(ordered.map(r => r.index)).toEqual([0, 1, 2, 3, 4, 5])
    expect(ordered.filter(r => 'value' in r).map(r => (r as { value: unknown }).value)).toEqual([0, 1, 2, 3, 5].map(n => ({ n, square: n * n })))
    expect(ordered[4]).toMatchObject({ index: 4, error: { name: 'RangeError', message: 'record 4 was told to fail', retryable: false } })

    const final = await job.done()
    expect(final).toMatchObject({ id: job.id, name: 'square', state: 'done', records: { total: 6, ok: 5, failed: 1 } })
    expect(final.requirements).toMatchObject({ cores: 1, memoryMb: 64, timeoutMs: 20_000 })
    expect(final.volunteers).toEqual([expect.objectContaining({ peerId: daemons[1].peerId, tasks: 6 })])

    await watching
    expect(events.at(-1)).toMatchObject({ type: 'done', jobId: job.id, job: { state: 'done' } })
    expect(events.some(e => e.type === 'leased' && e.worker === daemons[1].peerId)).toBe(true)
    expect(events.filter(e => e.type === 'final')).toHaveLength(6)
    const lastProgress = events.filter(e => e.type === 'progress').at(-1)
    expect(lastProgress).toMatchObject({ state: 'done', tasks: { done: 5, failed: 1, total: 6 }, volunteers: { active: 0, total: 1 } })

    const detail = await job.info()
    expect(detail).toMatchObject({ id: job.id, running: [], activeVolunteers: [], requeued: 0 })
    expect((await client.jobs()).map(j => j.id)).toContain(job.id)
    expect(lines).toContain(`job ${job.id} done: 5/6 records ok, 1 failed, 1 volunteer(s)`)
    expect(lines.some(l => l.startsWith(`job ${job.id} submitted: square, 6 records in 6 tasks`))).toBe(true)
  })

  it('takes a submission over the default 1 MiB body limit in one call', async () => {
    const { peerId } = await client.id()
    const { buildBundle } = await import('@idlegrid/bundle')
    const bundle = await buildBundle(JOB, { submitter: peerId, requirements: { cores: 64 } })
    const inputs = Array.from({ length: 3 }, (_, i) => ({ n: i, pad: 'p'.repeat(700_000) }))
    const submitted = await client.submitJob({ bundle, inputs })
    expect(submitted.job.records.total).toBe(3)
    // Nobody offers 64 cores: cancel it, which fails every record and keeps the job.
    const handle = client.job(submitted.jobId)
    expect(await handle.cancel()).toBe(true)
    expect(await handle.cancel()).toBe(false)
    const results = await handle.results()
    expect(results).toHaveLength(3)
    expect(results.every(r => 'error' in r && r.error.name === 'JobCancelledError')).toBe(true)
    expect((await handle.done()).state).toBe('cancelled')
  })

  it('signs a bundle submitted again once: same id and signature, both jobs run; other content gets its own', async () => {
    const { peerId } = await client.id()
    const { buildBundle, verifyBundle } = await import('@idlegrid/bundle')
    const bundle = await buildBundle(JOB, { submitter: peerId, requirements: { memoryMb: 64 } })
    const first = await client.submitJob({ bundle, inputs: [{ n: 2 }] })
    const second = await client.submitJob({ bundle: JSON.parse(JSON.stringify(bundle)), inputs: [{ n: 3 }] })
    expect(second.bundleId).toBe(first.bundleId)
    const changed = await client.submitJob({ bundle: { ...bundle, source: bundle.source + '\n// another version\n' }, inputs: [{ n: 4 }] })
    expect(changed.bundleId).not.toBe(first.bundleId)
    const results = await Promise.all([first, second, changed].map(async s => await client.job(s.jobId).results()))
    expect(results.map(r => r.map(x => 'value' in x ? x.value : x.error))).toEqual([[{ n: 2, square: 4 }], [{ n: 3, square: 9 }], [{ n: 4, square: 16 }]])

    // what signing once hands out is the signature signing again would give, and it verifies
    const identity = await readIdentity(dirs[0])
    const sign = signingCache(identity!.privateKey)
    const a = await sign(bundle)
    expect(await sign(JSON.parse(JSON.stringify(bundle)))).toBe(a)
    expect(a.id).toBe(first.bundleId)
    await expect(verifyBundle(a, { signer: peerId })).resolves.toMatchObject({ id: a.id })
  })

  it('submits and follows in one request (?follow): the answer line first, then every record result, until the job ends', async () => {
    const { peerId } = await client.id()
    const { buildBundle } = await import('@idlegrid/bundle')
    const bundle = await buildBundle(JOB, { submitter: peerId, requirements: { memoryMb: 64 } })
    const before = (await client.jobs()).length
    const lines: unknown[] = []
    for await (const line of client.stream('POST', '/v1/jobs', { body: { bundle, inputs: [{ n: 5 }, { n: 6, fail: true }, { n: 7 }] }, query: { follow: 'completed' } })) lines.push(line)
    const [answer, ...results] = lines as [{ jobId: string, job: { records: { total: number } } }, ...RecordResult[]]
    expect(answer).toMatchObject({ jobId: expect.stringMatching(/^[0-9a-f]{16}$/), job: { records: { total: 3 } } })
    expect(results.map(r => r.index).sort()).toEqual([0, 1, 2])
    expect(results.find(r => r.index === 2)).toEqual({ index: 2, value: { n: 7, square: 49 } })
    expect(results.find(r => r.index === 1)).toMatchObject({ index: 1, error: { name: 'RangeError' } })
    expect((await client.jobInfo(answer.jobId)).state).toBe('done')

    // in input order
    const ordered: unknown[] = []
    for await (const line of client.stream('POST', '/v1/jobs', { body: { bundle, inputs: [{ n: 8 }, { n: 9 }] }, query: { follow: 'input' } })) ordered.push(line)
    expect(ordered.slice(1)).toEqual([{ index: 0, value: { n: 8, square: 64 } }, { index: 1, value: { n: 9, square: 81 } }])

    // a bad follow is refused before anything is stored
    await expect(client.request('POST', '/v1/jobs', { body: { bundle, inputs: [1] }, query: { follow: 'sometimes' } })).rejects.toMatchObject({ name: 'InvalidInputError', message: expect.stringMatching(/follow must be 'completed' or 'input'/) })
    expect((await client.jobs()).length).toBe(before + 2)
  })

  it('refuses bad submissions with a named error that says what was wrong', async () => {
    const { peerId } = await client.id()
    const { buildBundle } = await import('@idlegrid/bundle')
    const bundle = await buildBundle(JOB, { submitter: peerId })
    const other = await buildBundle(JOB, { submitter: daemons[1].peerId })
    const before = (await client.jobs()).length

    await expect(client.submitJob({ bundle: other, inputs: [1] })).rejects.toMatchObject({ name: 'InvalidInputError', message: expect.stringMatching(/names submitter .* but this daemon is .*; build it with this daemon's PeerId/) })
    await expect(client.request('POST', '/v1/jobs', { body: { bundle, inputs: {} } })).rejects.toMatchObject({ name: 'InvalidInputError', message: expect.stringMatching(/inputs must be an array/) })
    await expect(client.request('POST', '/v1/jobs', { body: { bundle, inputs: [], priority: 1 } })).rejects.toThrow(/unknown field 'priority'/)
    await expect(client.submitJob({ bundle: { ...bundle, manifest: { ...bundle.manifest, replicas: 99 } }, inputs: [1] })).rejects.toThrow(/manifest\.replicas must be a whole number from 1 to 16/)
    await expect(client.submitJob({ bundle, inputs: [1, 'x'.repeat(1024 * 1024 + 10)] })).rejects.toThrow(/record 1 is \d+ bytes of JSON, over the limit/)
    await expect(client.submitJob({ bundle, inputs: [1, 2, 3], batch: 0 })).rejects.toThrow(/batch must be a whole number from 1/)
    // Nothing was stored by any of them.
    expect((await client.jobs()).length).toBe(before)
  })

  it('answers 404 for a job it does not know, on every job route', async () => {
    await expect(client.jobInfo('0123456789abcdef')).rejects.toMatchObject({ name: 'NotFoundError', message: expect.stringMatching(/no job 0123456789abcdef/) })
    await expect(client.cancelJob('nope')).rejects.toMatchObject({ name: 'NotFoundError' })
    await expect(client.job('nope').results()).rejects.toMatchObject({ name: 'NotFoundError' })
    await expect(client.job('nope').done()).rejects.toMatchObject({ name: 'NotFoundError' })
    await expect(client.request('GET', '/v1/jobs/x/results', { query: { order: 'random' } })).rejects.toMatchObject({ name: 'NotFoundError' })
  })

  it('idlegrid submit on a terminal draws the bar in place and ends with the summary', async () => {
    const input = join(dirs[0], 'in.jsonl')
    const out = join(dirs[0], 'out.jsonl')
    await writeFile(input, '{"n": 2}\n{"n": 3}\n')
    let stderr = ''
    let stdout = ''
    const code = await runCli(['submit', JOB, '--input', input, '--out', out, '--memory', '64', '--data-dir', dirs[0]], {
      io: { stdout: t => { stdout += t }, stderr: t => { stderr += t }, env: {}, stderrIsTTY: true, columns: 100 }
    })
    expect(code, stderr).toBe(0)
    expect(stdout).toBe('')
    expect(await readFile(out, 'utf8')).toBe('{"n":2,"square":4}\n{"n":3,"square":9}\n')
    // The last frame before the summary: a full bar, redrawn with \r and cleared to the end of the line.
    expect(stderr).toMatch(/\r\[=+\] 2\/2 tasks · 1 volunteer[^\n]*\u001b\[K\njob [0-9a-f]{16} done in \d+s: 2\/2 records ok, 0 failed · 1 volunteer\n/)
  })

  it('idlegrid submit --input - reads the records from standard input; a bad line there is named and nothing is stored', async () => {
    const out = join(dirs[0], 'out-stdin.jsonl')
    const run = async (input: string | undefined, args: string[] = []): Promise<{ code: number, stderr: string }> => {
      let stderr = ''
      const code = await runCli(['submit', JOB, '--input', '-', '--memory', '64', ...args, '--data-dir', dirs[0]], {
        io: { stdout: () => {}, stderr: t => { stderr += t }, env: {}, ...(input != null ? { readStdin: async () => input } : {}) }
      })
      return { code, stderr }
    }
    const piped = await run('{"n": 4}\n{"n": 5}\n{"n": 6}\n', ['--out', out])
    expect(piped.code, piped.stderr).toBe(0)
    expect(await readFile(out, 'utf8')).toBe('{"n":4,"square":16}\n{"n":5,"square":25}\n{"n":6,"square":36}\n')
    const before = (await client.jobs({ limit: 10_000 })).length
    expect(await run('{"n": 4}\nnot json\n')).toMatchObject({ code: 2, stderr: expect.stringContaining('stdin:2: line 2 is not JSON') })
    expect(await run('')).toMatchObject({ code: 2, stderr: expect.stringContaining('stdin holds no records') })
    expect(await run(undefined)).toMatchObject({ code: 2, stderr: expect.stringContaining('--input - reads the records from standard input') })
    expect((await client.jobs({ limit: 10_000 })).length).toBe(before)
  })

  it('idlegrid submit interrupted stops following with exit 130; the job stays stored and running', async () => {
    const input = join(dirs[0], 'in2.jsonl')
    await writeFile(input, '1\n2\n')
    let stderr = ''
    const controller = new AbortController()
    const running = runCli(['submit', JOB, '--input', input, '--cores', '64', '--data-dir', dirs[0]], {
      io: { stdout: () => {}, stderr: t => { stderr += t; if (t.startsWith('job ')) controller.abort('SIGINT') }, env: {} },
      signal: controller.signal
    })
    expect(await running).toBe(130)
    const id = /job ([0-9a-f]{16}) submitted/.exec(stderr)![1]
    expect(stderr).toContain(`stopped following job ${id}; it keeps running in the daemon: \`idlegrid job ${id}\``)
    expect((await client.jobInfo(id)).state).toBe('running')
    expect((await client.cancelJob(id)).cancelled).toBe(true)
  })

  it('checks query parameters of the streams', async () => {
    const [job] = await client.jobs()
    await expect(client.request('GET', `/v1/jobs/${job.id}/results`, { query: { order: 'random' } })).rejects.toThrow(/order must be 'input' or 'completed'/)
    await expect(client.request('GET', `/v1/jobs/${job.id}/events`, { query: { interval: 1 } })).rejects.toThrow(/interval must be a whole number from 50/)
    // Not following: what is finished now, from a record on.
    const rest: RecordResult[] = []
    for await (const r of client.jobResults(job.id, { follow: false, from: 2 })) rest.push(r)
    expect(rest.map(r => r.index)).toEqual([2, 3, 4, 5])
  })
  it('lists the newest jobs (GET /v1/jobs, `idlegrid jobs`) page by page back, by state, and refuses a list it cannot give', async () => {
    const all = (await client.jobs({ limit: 10_000 })).map(j => j.id)
    expect(all.length).toBeGreaterThanOrEqual(4)
    const newest = await client.jobs({ limit: 2 })
    expect(newest.map(j => j.id)).toEqual(all.slice(-2))
    expect((await client.jobs({ limit: 2, before: newest[0].id })).map(j => j.id)).toEqual(all.slice(-4, -2))
    const done = await client.jobs({ state: 'done', limit: 10_000 })
    expect(done.length).toBeGreaterThan(0)
    expect(done.every(j => j.state === 'done')).toBe(true)
    await expect(client.jobs({ limit: 0 })).rejects.toMatchObject({ name: 'InvalidInputError', message: expect.stringMatching(/limit must be a whole number from 1/) })
    await expect(client.jobs({ limit: 10_001 })).rejects.toMatchObject({ name: 'InvalidInputError', message: expect.stringMatching(/from 1 to 10000, got 10001/) })
    await expect(client.request('GET', '/v1/jobs', { query: { state: 'finished' } })).rejects.toMatchObject({ name: 'InvalidInputError', message: expect.stringMatching(/state is one of running, done, cancelled, got 'finished'/) })
    await expect(client.jobs({ before: '0123456789abcdef' })).rejects.toMatchObject({ name: 'InvalidInputError', message: expect.stringMatching(/no job 0123456789abcdef on this node/) })

    const cli = async (args: string[]): Promise<{ code: number, out: string, err: string }> => {
      let out = ''
      let err = ''
      const code = await runCli([...args, '--data-dir', dirs[0]], { io: { stdout: t => { out += t }, stderr: t => { err += t }, env: {} } })
      return { code, out, err }
    }
    // a full page says how to see the jobs before it; the last page does not
    const page = await cli(['jobs', '--limit', '2'])
    expect(page.code).toBe(0)
    expect(page.out).toContain(all.at(-1))
    expect(page.out).not.toContain(all.at(-3))
    expect(page.out).toContain(`the newest 2 shown; older ones: idlegrid jobs --before ${all.at(-2) as string}`)
    const first = await cli(['jobs', '--before', all[1]])
    expect(first.out).toContain(all[0])
    expect(first.out).not.toContain('older ones')
    expect(JSON.parse((await cli(['jobs', '--limit', '1', '--json'])).out).map((j: { id: string }) => j.id)).toEqual(all.slice(-1))
    expect(await cli(['jobs', '--state', 'finished'])).toMatchObject({ code: 2, err: expect.stringMatching(/--state must be one of running, done, cancelled, got 'finished'/) })
    expect(await cli(['jobs', '--limit', 'ten'])).toMatchObject({ code: 2, err: expect.stringMatching(/--limit must be an integer/) })
    expect((await cli(['jobs', '--state', 'cancelled', '--before', all[0]])).out).toBe('no jobs match\n')
  })
})
