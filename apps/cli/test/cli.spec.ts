// The command line in-process: dispatch, help, strict flags and the exit
// codes scripts rely on.
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { runCli } from '../src/cli.js'

interface Run { code: number, stdout: string, stderr: string }

async function run (args: string[], env: Record<string, string | undefined> = {}): Promise<Run> {
  let stdout = ''
  let stderr = ''
  const code = await runCli(args, { io: { stdout: t => { stdout += t }, stderr: t => { stderr += t }, env } })
  return { code, stdout, stderr }
}

describe('idlegrid command line', () => {
  let dataDir: string

  beforeEach(async () => { dataDir = await mkdtemp(join(tmpdir(), 'idlegrid-cli-')) })
  afterEach(async () => { await rm(dataDir, { recursive: true, force: true }) })

  it('prints help with exit 0 when asked, and with exit 2 on stderr when no command is given', async () => {
    const asked = await run(['--help'])
    expect(asked.code).toBe(0)
    expect(asked.stdout).toMatch(/Commands:\n {2}daemon/)
    const bare = await run([])
    expect(bare.code).toBe(2)
    expect(bare.stderr).toMatch(/Usage: idlegrid <command>/)
    const cmd = await run(['find', '--help'])
    expect(cmd.code).toBe(0)
    expect(cmd.stdout).toMatch(/--cpu N/)
    expect((await run(['help', 'daemon'])).stdout).toMatch(/--max-cores N/)
  })

  it('exits 2 with one line for an unknown command, flag or stray argument', async () => {
    const unknown = await run(['frobnicate'])
    expect(unknown).toMatchObject({ code: 2, stdout: '' })
    expect(unknown.stderr).toBe("idlegrid: unknown command 'frobnicate'; commands are daemon, status, peers, capacity, find, id, submit, jobs, job, credits, swarm, trust (see `idlegrid --help`)\n")
    const flag = await run(['status', '--colour'])
    expect(flag.code).toBe(2)
    expect(flag.stderr).toBe("idlegrid: Unknown option '--colour'; see `idlegrid status --help`\n")
    const stray = await run(['peers', 'extra'])
    expect(stray.code).toBe(2)
    expect(stray.stderr).toMatch(/unexpected argument 'extra'/)
  })

  it('exits 2 for a bad flag value before contacting anything', async () => {
    const res = await run(['find', '--cpu', 'many', '--data-dir', dataDir])
    expect(res.code).toBe(2)
    expect(res.stderr).toBe("idlegrid: --cpu must be an integer between 1 and 100000, got 'many'\n")
  })

  it('exits 3 with the way out when no daemon runs, for every client command', async () => {
    for (const command of ['status', 'peers', 'capacity', 'find']) {
      const res = await run(['--data-dir', dataDir, command])
      expect(res.code).toBe(3)
      expect(res.stderr).toBe(`idlegrid: no daemon running for data dir ${dataDir}; start one with \`idlegrid daemon --data-dir ${dataDir}\`\n`)
    }
  })

  it('finds the data directory through IDLEGRID_DATA_DIR, and --data-dir wins over it', async () => {
    const other = join(dataDir, 'other')
    expect((await run(['status'], { IDLEGRID_DATA_DIR: other })).stderr).toContain(`data dir ${other};`)
    expect((await run(['status', '--data-dir', dataDir], { IDLEGRID_DATA_DIR: other })).stderr).toContain(`data dir ${dataDir};`)
  })

  it('id needs a key, creates one with --create, and prints the same PeerId after', async () => {
    const missing = await run(['id', '--data-dir', dataDir])
    expect(missing.code).toBe(1)
    expect(missing.stderr).toMatch(/no identity key at .*identity\.key yet/)
    expect(await readdir(dataDir)).toEqual([])
    const created = await run(['id', '--create', '--data-dir', dataDir, '--json'])
    expect(created.code).toBe(0)
    const info = JSON.parse(created.stdout)
    expect(info).toMatchObject({ peerId: expect.stringMatching(/^12D3KooW/), created: true })
    const again = await run(['--data-dir', dataDir, 'id'])
    expect(again).toEqual({ code: 0, stdout: `${info.peerId as string}\n`, stderr: '' })
  })

  it('prints the version', async () => {
    expect((await run(['--version'])).stdout).toMatch(/^idlegrid \d+\.\d+\.\d+\n$/)
  })
})
