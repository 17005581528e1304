// Jobs through the real `idlegrid` command: one submitter daemon and two
// volunteer daemons on 127.0.0.1. Submit a job file that imports a local
// helper, check results and their order, inspect the job, and each kind of
// bad input, which must lose nothing already stored.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runCli, runCliJson, spawnDaemon, tempDataDir, waitFor, waitForControl } from '../src/index.js'
import type { CliResult, DaemonProcess } from '../src/index.js'

const FIXTURES = fileURLToPath(new URL('./jobs-fixtures/', import.meta.url))
const JOB = join(FIXTURES, 'square.ts')
const BROKEN = join(FIXTURES, 'broken.js')
// Short re-advertising keeps discovery to a fraction of a second.
const FAST = ['--advertise-interval', '300', '--max-cores', '1']

describe('jobs through the CLI', { timeout: 60_000 }, () => {
  const daemons: DaemonProcess[] = []
  let submitter: string
  let work: string
  const submitted: string[] = []

  const cli = async (args: string[]): Promise<CliResult> => await runCli([...args, '--data-dir', submitter])
  /** Writes a file into the scratch folder and returns its path. */
  const file = async (name: string, text: string): Promise<string> => {
    const path = join(work, name)
    await writeFile(path, text)
    return path
  }
  const jsonl = (records: unknown[]): string => records.map(r => JSON.stringify(r)).join('\n') + '\n'
  const stderrLines = (res: CliResult): string[] => res.stderr.trimEnd().split('\n')

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'idlegrid-e2e-jobs-'))
    submitter = await tempDataDir('submitter')
    const a = spawnDaemon(submitter, FAST)
    daemons.push(a)
    await waitForControl(a)
    const address = /listening on (\S+)/.exec(a.output())![1]
    const volunteers = await Promise.all(['v1', 'v2'].map(async name => {
      const d = spawnDaemon(await tempDataDir(name), [...FAST, '--bootstrap', address])
      daemons.push(d)
      await waitForControl(d)
      return /node (\S+) started/.exec(d.output())![1]
    }))
    // Both volunteers are connected before the first job is announced.
    await waitFor(async () => {
      const peers = await runCliJson<Array<{ peerId: string }>>(['peers', '--data-dir', submitter])
      return volunteers.every(v => peers.some(p => p.peerId === v)) ? true : undefined
    }, 'both volunteers to connect to the submitter')
  }, 90_000)

  afterAll(async () => {
    await Promise.all(daemons.map(async d => {
      await d.stop('SIGTERM', 5_000)
      await rm(d.dataDir, { recursive: true, force: true })
    }))
    await rm(work, { recursive: true, force: true })
  })

  it('submits a job file that imports a local helper: every result right, in input order, in --out', async () => {
    const records = Array.from({ length: 12 }, (_, n) => ({ n: (n * 7) % 12 }))
    const input = await file('squares.jsonl', jsonl(records))
    const out = join(work, 'squares.out.jsonl')
    const res = await cli(['submit', JOB, '--input', input, '--out', out, '--timeout', '20', '--memory', '64'])
    expect(res.code, res.stderr).toBe(0)
    expect(res.stdout).toBe('')
    const lines = (await readFile(out, 'utf8')).trimEnd().split('\n').map(l => JSON.parse(l))
    expect(lines).toEqual(records.map(r => ({ n: r.n, square: r.n * r.n })))
    // Piped progress: plain lines, then the summary.
    const id = /^job ([0-9a-f]{16}) submitted: 12 records in 12 tasks \(square\)/.exec(res.stderr)?.[1]
    expect(id).toBeDefined()
    submitted.push(id!)
    expect(res.stderr).toMatch(/^progress 100% 12\/12 tasks · \d volunteers? /m)
    expect(res.stderr).toMatch(new RegExp(`job ${id!} done in .*: 12/12 records ok, 0 failed · [12] volunteers?\\n`))
    expect(res.stderr).toContain(`results: ${out} (12 lines, line N = record N)`)
  })

  it('shows a job: state, counts, per-volunteer share; --json is the whole JobDetail', async () => {
    const id = submitted[0]
    const [human, detail] = await Promise.all([cli(['job', id]), runCliJson(['job', id, '--data-dir', submitter])])
    expect(human.code).toBe(0)
    expect(human.stdout).toMatch(new RegExp(`^job\\s+${id} \\(square\\)\\nstate\\s+done · 100% · `))
    expect(human.stdout).toMatch(/records\s+12 ok · 0 failed · 12 total/)
    expect(human.stdout).toMatch(/tasks\s+12 done · 0 failed · 0 running · 0 pending · 12 total \(batch 1\)/)
    expect(human.stdout).toMatch(/PEER ID\s+TASKS\s+RECORDS\s+SHARE\s+CPU/)
    expect(detail).toMatchObject({ id, state: 'done', records: { total: 12, ok: 12, failed: 0 }, running: [], activeVolunteers: [] })
    const shares = detail.volunteers as Array<{ peerId: string, tasks: number }>
    expect(shares.reduce((n, v) => n + v.tasks, 0)).toBe(12)
    for (const v of shares) {
      expect(human.stdout).toMatch(new RegExp(`${v.peerId}\\s+${v.tasks}\\s+${v.tasks}\\s+${Math.round(v.tasks / 12 * 100)}%`))
    }
    // job results writes what submit wrote.
    const again = join(work, 'again.jsonl')
    expect((await cli(['job', 'results', id, '--out', again])).code).toBe(0)
    expect(await readFile(again, 'utf8')).toBe(await readFile(join(work, 'squares.out.jsonl'), 'utf8'))
    const cancel = await cli(['job', 'cancel', id])
    expect(cancel).toMatchObject({ code: 0, stdout: `job ${id} had already ended (done); nothing to cancel\n` })
  })

  it('reports failed records with their errors, writes {"error"} lines and exits 8; --json prints NDJSON events', async () => {
    const input = await file('some-fail.json', JSON.stringify([{ n: 1 }, { n: 2, fail: true }, { n: 3 }], null, 2))
    const res = await cli(['submit', JOB, '--input', input, '--json', '--batch', '3'])
    expect(res.code, res.stderr).toBe(8)
    const events = res.stdout.trimEnd().split('\n').map(l => JSON.parse(l))
    expect(events[0]).toMatchObject({ event: 'submitted', records: 3, tasks: 1 })
    submitted.push(events[0].jobId)
    expect(events.filter(e => e.event === 'result')).toEqual([
      { event: 'result', index: 0, value: { n: 1, square: 1 } },
      { event: 'result', index: 1, error: expect.objectContaining({ name: 'RangeError', message: 'record 2 was told to fail' }) },
      { event: 'result', index: 2, value: { n: 3, square: 9 } }
    ])
    expect(events.some(e => e.event === 'progress' && typeof e.done === 'number' && e.total === 1)).toBe(true)
    expect(events.at(-1)).toMatchObject({ event: 'done', state: 'done', exitCode: 8, records: { ok: 2, failed: 1, total: 3 } })
    expect(events.at(-1).failures[0]).toMatchObject({ name: 'RangeError', record: 1 })
  })

  it('refuses a job file that does not bundle, naming file:line', async () => {
    const input = await file('one.jsonl', '1\n')
    const res = await cli(['submit', BROKEN, '--input', input])
    expect(res.code).toBe(2)
    expect(res.stderr).toMatch(/^idlegrid: .*broken\.js does not bundle:\n/)
    expect(res.stderr).toMatch(/broken\.js:2:\d+: Could not resolve "\.\/no-such-helper\.js"/)
  })

  it('refuses an input file that is not JSONL or JSON, saying which line', async () => {
    const input = await file('bad.jsonl', '{"n": 1}\n{"n": 2}\n{n: 3}\n')
    const res = await cli(['submit', JOB, '--input', input])
    expect(res.code).toBe(2)
    expect(stderrLines(res)).toEqual([expect.stringMatching(/^idlegrid: .*bad\.jsonl:3: line 3 is not JSON .*; inputs are JSONL \(one JSON value a line\) or one JSON array$/)])
    const missing = await cli(['submit', JOB, '--input', join(work, 'nope.jsonl')])
    expect(missing).toMatchObject({ code: 2, stderr: expect.stringMatching(/input file not found: .*nope\.jsonl/) })
  })

  it('refuses a record over the size limit, naming its index', async () => {
    const input = await file('big.jsonl', jsonl([{ n: 1 }, { n: 2 }, { n: 3, blob: 'x'.repeat(1024 * 1024) }]))
    const res = await cli(['submit', JOB, '--input', input])
    expect(res.code).toBe(2)
    expect(stderrLines(res)).toEqual([expect.stringMatching(/^idlegrid: .*big\.jsonl:3: record 2 is 1048\d{3} bytes of JSON, over the limit of 1048576 bytes per record/)])
  })

  it('gives up on requirements no volunteer meets after --wait, with a clear message and exit 9', async () => {
    const input = await file('needy.jsonl', jsonl([{ n: 1 }, { n: 2 }]))
    const out = join(work, 'needy.out.jsonl')
    const res = await cli(['submit', JOB, '--input', input, '--cores', '4', '--memory', '2048', '--wait', '2', '--out', out])
    expect(res.code, res.stderr).toBe(9)
    expect(res.stderr).toContain('no volunteer offers 4 cores and 2048 MB; waiting... (giving up after 2 s)')
    expect(res.stderr).toMatch(/idlegrid: gave up after 2 s: no volunteer took a task of job [0-9a-f]{16} \(it needs 4 cores and 2048 MB per task\); the job was cancelled/)
    await expect(readFile(out)).rejects.toMatchObject({ code: 'ENOENT' })
    submitted.push(/job ([0-9a-f]{16}) submitted/.exec(res.stderr)![1])
  })

  it('reads the records from a pipe with --input -, and names the bad line of one', async () => {
    const res = await runCli(['submit', JOB, '--input', '-', '--timeout', '20', '--memory', '64', '--data-dir', submitter], { stdin: jsonl([{ n: 3 }, { n: 4 }]) })
    expect(res).toMatchObject({ code: 0, stdout: '{"n":3,"square":9}\n{"n":4,"square":16}\n' })
    const id = /^job ([0-9a-f]{16}) submitted: 2 records in 2 tasks/.exec(res.stderr)?.[1]
    expect(id, res.stderr).toBeDefined()
    submitted.push(id!)
    const bad = await runCli(['submit', JOB, '--input', '-', '--data-dir', submitter], { stdin: '{"n": 3}\n{"n": \n' })
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain('stdin:2: line 2 is not JSON')
  })

  it('lost nothing: `idlegrid jobs` still lists every job submitted before, none from refused input', async () => {
    const jobs = await runCliJson<Array<{ id: string, state: string }>>(['jobs', '--data-dir', submitter])
    expect(jobs.map(j => j.id)).toEqual(submitted)
    expect(jobs.map(j => j.state)).toEqual(['done', 'done', 'cancelled', 'done'])
    const human = await cli(['jobs'])
    expect(human.stdout).toMatch(/^JOB\s+NAME\s+STATE\s+RECORDS OK\/FAILED\/TOTAL/)
    expect(human.stdout).toMatch(new RegExp(`${submitted[0]}\\s+square\\s+done\\s+12/0/12\\s+12/12`))
  })

  it('--detach prints the job id at once; job results then waits for the end', async () => {
    const input = await file('detach.jsonl', jsonl([{ n: 5 }, { n: 6 }]))
    const res = await cli(['submit', JOB, '--input', input, '--detach'])
    expect(res.code, res.stderr).toBe(0)
    const id = res.stdout.trim()
    expect(id).toMatch(/^[0-9a-f]{16}$/)
    const results = await cli(['job', 'results', id])
    expect(results).toMatchObject({ code: 0, stdout: '{"n":5,"square":25}\n{"n":6,"square":36}\n' })
  })
})
