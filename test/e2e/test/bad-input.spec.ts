// Bad input through the real `idlegrid` command: each gets one clear line on
// stderr, its documented exit code, and the data directory stays as it was.
import { createServer } from 'node:net'
import { mkdir, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { runCli, spawnDaemon, tempDataDir, waitForControl } from '../src/index.js'
import type { CliResult, DaemonProcess } from '../src/index.js'
import type { AddressInfo } from 'node:net'

const dirs: string[] = []
async function dataDir (name: string): Promise<string> {
  const dir = await tempDataDir(name)
  dirs.push(dir)
  return dir
}

async function snapshot (dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {}
  for (const entry of (await readdir(dir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
    // Folders (the bundle cache) are listed, not read.
    out[entry.name] = entry.isDirectory() ? '<dir>' : (await readFile(join(dir, entry.name))).toString('base64')
  }
  return out
}

/** One line on stderr; nothing on stdout but, where allowed, the new-identity log line. */
function expectOneErrorLine (res: CliResult, code: number, pattern: RegExp, stdout: RegExp = /^$/): void {
  expect(res.code).toBe(code)
  expect(res.stdout).toMatch(stdout)
  const lines = res.stderr.trimEnd().split('\n')
  expect(lines).toHaveLength(1)
  expect(lines[0]).toMatch(/^idlegrid: /)
  expect(lines[0]).toMatch(pattern)
}

// Independent cases, each on its own data directory: run them side by side.
describe.concurrent('bad input to `idlegrid daemon`', { timeout: 90_000 }, () => {
  afterAll(async () => {
    await Promise.all(dirs.map(async d => { await rm(d, { recursive: true, force: true }) }))
  })

  it('malformed config.json: exit 2, names the file, touches nothing', async () => {
    const dir = await dataDir('bad-json')
    await writeFile(join(dir, 'config.json'), '{"maxCores": 2,')
    const before = await snapshot(dir)
    expectOneErrorLine(await runCli(['daemon', '--data-dir', dir]), 2, /config\.json is not valid JSON .*fix it or remove it/)
    expect(await snapshot(dir)).toEqual(before)

    await writeFile(join(dir, 'config.json'), '{"maxCores": "lots"}')
    const res = await runCli(['daemon', '--data-dir', dir])
    expectOneErrorLine(res, 2, /^idlegrid: config\.json: maxCores must be an integer between 1 and \d+, got 'lots'$/)
    expect(await readdir(dir)).toEqual(['config.json'])
  })

  it('unknown flag: exit 2, and no data directory is created', async () => {
    const dir = join(await dataDir('flag'), 'fresh')
    expectOneErrorLine(await runCli(['daemon', '--data-dir', dir, '--max-coars', '2']), 2, /Unknown option '--max-coars'; see `idlegrid daemon --help`/)
    await expect(stat(dir)).rejects.toMatchObject({ code: 'ENOENT' })
  })

  it('bootstrap address that is not a multiaddr: exit 2, and no data directory is created', async () => {
    const dir = join(await dataDir('maddr'), 'fresh')
    expectOneErrorLine(await runCli(['daemon', '--data-dir', dir, '--bootstrap', 'example.com:4001']), 2, /--bootstrap: 'example\.com:4001' is not a multiaddr/)
    await expect(stat(dir)).rejects.toMatchObject({ code: 'ENOENT' })
  })

  it('corrupt identity key: exit 5, its bytes unchanged, for daemon and id alike', async () => {
    const dir = await dataDir('key')
    const junk = Buffer.from([0x08, 0x01, 0x12, 0x05, 0xde, 0xad, 0xbe, 0xef, 0x00, 0x42])
    await writeFile(join(dir, 'identity.key'), junk, { mode: 0o600 })
    expectOneErrorLine(await runCli(['daemon', '--data-dir', dir]), 5, /identity key .* is corrupt .*left untouched/)
    expectOneErrorLine(await runCli(['id', '--data-dir', dir]), 5, /is corrupt/)
    expect(await readFile(join(dir, 'identity.key'))).toEqual(junk)
    expect(await readdir(dir)).toEqual(['identity.key'])
  })

  it('unreadable identity key: exit 5, left as it was', async () => {
    const dir = await dataDir('key-dir')
    await mkdir(join(dir, 'identity.key'))
    expectOneErrorLine(await runCli(['daemon', '--data-dir', dir]), 5, /cannot read the identity key .*EISDIR/)
    expect((await stat(join(dir, 'identity.key'))).isDirectory()).toBe(true)
  })

  it('listen port already in use: exit 6, lock and control files rolled back', async () => {
    const dir = await dataDir('port')
    const blocker = createServer()
    await new Promise<void>(resolve => blocker.listen(0, '127.0.0.1', resolve))
    const port = (blocker.address() as AddressInfo).port
    try {
      expectOneErrorLine(await runCli(['daemon', '--data-dir', dir, '--listen', `/ip4/127.0.0.1/tcp/${port}`]), 6, new RegExp(`/ip4/127\\.0\\.0\\.1/tcp/${port}.*already in use`), /^\S+ created a new identity \S+ in \S+\n$/)
      expect(await readdir(dir)).toEqual(['identity.key'])
    } finally {
      await new Promise(resolve => blocker.close(resolve))
    }
  })

  it('a daemon already running on the data directory: exit 4, the first one unharmed', async () => {
    const dir = await dataDir('twice')
    const running: DaemonProcess = spawnDaemon(dir, ['--max-cores', '1'])
    try {
      const info = await waitForControl(running)
      const before = await snapshot(dir)
      expectOneErrorLine(await runCli(['daemon', '--data-dir', dir]), 4, new RegExp(`a daemon \\(pid ${info.pid}\\) is already running for data dir .*; stop it first`))
      expect(await snapshot(dir)).toEqual(before)
      expect((await runCli(['status', '--data-dir', dir])).code).toBe(0)
    } finally {
      await running.stop('SIGKILL')
    }
  })
})
