// `idlegrid swarm` and `idlegrid trust` in-process: argument handling, the
// errors for bad invites, keys and names (one line, exit 2, nothing
// overwritten), and a running daemon that picks up `trust add` at once.
import { chmod, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createControlClient } from '@idlegrid/control-api'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { runCli } from '../src/cli.js'
import { DEFAULT_CONFIG } from '../src/config.js'
import { startDaemon } from '../src/daemon/start-daemon.js'
import type { Daemon } from '../src/daemon/start-daemon.js'

interface Run { code: number, stdout: string, stderr: string }

async function run (args: string[], env: Record<string, string | undefined> = {}): Promise<Run> {
  let stdout = ''
  let stderr = ''
  const code = await runCli(args, { io: { stdout: t => { stdout += t }, stderr: t => { stderr += t }, env } })
  return { code, stdout, stderr }
}

async function newPeerId (): Promise<string> {
  return peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString()
}

/** Exit 2 with exactly one line on stderr matching `pattern`, nothing on stdout. */
function expectBadInput (res: Run, pattern: RegExp): void {
  expect(res.code).toBe(2)
  expect(res.stdout).toBe('')
  expect(res.stderr).toMatch(/^idlegrid: [^\n]*\n$/)
  expect(res.stderr).toMatch(pattern)
}

describe('idlegrid swarm and trust', () => {
  let a: string
  let b: string
  let daemon: Daemon | undefined

  beforeEach(async () => {
    a = await mkdtemp(join(tmpdir(), 'idlegrid-swarm-cli-'))
    b = await mkdtemp(join(tmpdir(), 'idlegrid-swarm-cli-'))
  })
  afterEach(async () => {
    await daemon?.stop()
    daemon = undefined
    await Promise.all([a, b].map(async d => { await rm(d, { recursive: true, force: true }) }))
  })

  async function createLab (): Promise<{ id: string, invite: string, creator: string }> {
    const res = await run(['swarm', 'create', 'lab', '--bootstrap', '/ip4/127.0.0.1/tcp/4101', '--json', '--data-dir', a])
    expect(res.code).toBe(0)
    return JSON.parse(res.stdout)
  }

  it('create makes the identity, a 0600 key and an invite; show hides the invite unless asked', async () => {
    const text = await run(['swarm', 'create', 'lab', '--data-dir', a])
    expect(text.code).toBe(0)
    const peerId = (await run(['id', '--data-dir', a])).stdout.trim()
    expect(text.stdout).toContain(`creator     ${peerId} (this node)`)
    expect(text.stdout).toMatch(/\nidlegrid-invite1\.[\w-]+\.[0-9a-f]{8}\n/)
    expect(text.stdout).toContain('note: no bootstrap address')
    expect((await import('node:fs/promises').then(async fs => fs.stat(join(a, 'swarms/lab/swarm.key')))).mode & 0o777).toBe(0o600)

    const shown = await run(['swarm', 'show', '--data-dir', a])
    expect(shown.stdout).toMatch(/^swarm lab\n {2}id {10}[0-9a-f]{16}\n {2}dht {9}\/idlegrid\/[0-9a-f]{16}\/kad\/1\.0\.0\n/)
    expect(shown.stdout).not.toContain('idlegrid-invite1')
    const json = JSON.parse((await run(['swarm', 'show', '--json', '--data-dir', a])).stdout)
    expect(json).toEqual([expect.objectContaining({ name: 'lab', creator: peerId, trusted: [peerId], bootstrap: [] })])
    expect(json[0].invite).toBeUndefined()
    expect((await run(['swarm', 'show', 'lab', '--invite', '--data-dir', a])).stdout).toMatch(/ {2}invite {6}idlegrid-invite1\./)
    expect((await run(['swarm', 'show', '--data-dir', b])).stdout).toMatch(/^this node is in no private swarm/)
  })

  it('join takes a good invite once; bad, truncated or repeated ones exit 2 and change nothing', async () => {
    const { id, invite } = await createLab()
    const [prefix, payload, sum] = invite.split('.')
    expectBadInput(await run(['swarm', 'join', invite.slice(0, invite.length - 4), '--data-dir', b]), /checksum does not match/)
    expectBadInput(await run(['swarm', 'join', `${prefix}.${payload.slice(0, -2)}.${sum}`, '--data-dir', b]), /checksum does not match/)
    expectBadInput(await run(['swarm', 'join', 'hello', '--data-dir', b]), /not an IdleGrid invite/)
    expect(await readdir(b)).toEqual([])

    const joined = await run(['swarm', 'join', invite, '--json', '--data-dir', b])
    expect(joined.code).toBe(0)
    expect(JSON.parse(joined.stdout)).toMatchObject({ name: 'lab', id })
    const key = await readFile(join(b, 'swarms/lab/swarm.key'))
    expectBadInput(await run(['swarm', 'join', invite, '--data-dir', b]), /already a member of swarm "lab" \(the same swarm\); nothing was changed/)
    expect(await readFile(join(b, 'swarms/lab/swarm.key'))).toEqual(key)
  })

  it('refuses bad names, addresses, actions and flags with exit 2 before writing anything', async () => {
    expectBadInput(await run(['swarm', 'create', 'Lab Team', '--data-dir', a]), /swarm name "Lab Team" is not valid/)
    expectBadInput(await run(['swarm', 'create', 'lab', '--bootstrap', '127.0.0.1:4101', '--data-dir', a]), /bootstrap address "127\.0\.0\.1:4101" is not a multiaddr/)
    expect(await readdir(a)).toEqual([])
    expectBadInput(await run(['swarm', 'frob', '--data-dir', a]), /unknown swarm action 'frob'/)
    expectBadInput(await run(['swarm', 'create', '--data-dir', a]), /needs the swarm's name/)
    expectBadInput(await run(['swarm', 'join', '--data-dir', a]), /needs the invite/)
    expectBadInput(await run(['swarm', 'join', 'x', '--invite', '--data-dir', a]), /--invite does not apply to `idlegrid swarm join`/)
    expectBadInput(await run(['swarm', 'show', '--bootstrap', '/ip4/1.2.3.4/tcp/1', '--data-dir', a]), /--bootstrap does not apply/)
    expectBadInput(await run(['swarm', 'leave', 'lab', '--data-dir', a]), /not in a swarm named "lab"/)
    expectBadInput(await run(['swarm', 'show', 'lab', '--data-dir', a]), /not in a swarm named "lab"/)
    expect(await readdir(a)).toEqual([])
  })

  it('refuses a key file readable by others or damaged, for trust and for the daemon', async () => {
    await createLab()
    const keyPath = join(a, 'swarms/lab/swarm.key')
    await chmod(keyPath, 0o644)
    expectBadInput(await run(['trust', 'list', '--data-dir', a]), /can be read by other users \(mode 644\).*chmod 600/)
    expectBadInput(await run(['daemon', '--swarm', 'lab', '--data-dir', a]), /can be read by other users/)
    await chmod(keyPath, 0o600)
    await writeFile(keyPath, '/key/swarm/psk/1.0.0/\n/base16/\nabc')
    expectBadInput(await run(['daemon', '--swarm', 'lab', '--data-dir', a]), /is damaged: after the header it must hold 64 lowercase hexadecimal characters/)
    // nothing of a daemon was left behind
    expect((await readdir(a)).sort()).toEqual(['identity.key', 'swarms'])
  })

  it('daemon --swarm naming a swarm the node is not in exits 2 before creating anything', async () => {
    expectBadInput(await run(['daemon', '--swarm', 'nope', '--data-dir', a]), /^idlegrid: --swarm nope: this node is not in a swarm named "nope"/)
    expectBadInput(await run(['daemon', '--data-dir', a], { IDLEGRID_SWARM: 'Bad!' }), /IDLEGRID_SWARM must be the name of a swarm/)
    expect(await readdir(a)).toEqual([])
  })

  it('trust picks the swarm (flag, IDLEGRID_SWARM, the only one), keeps the last signer, checks PeerIds', async () => {
    const { creator } = await createLab()
    const friend = await newPeerId()
    expectBadInput(await run(['trust', 'list', '--data-dir', b]), /this node is in no private swarm, so it has no trust list/)
    expectBadInput(await run(['trust', 'add', '--data-dir', a]), /needs the signer's PeerId/)
    expectBadInput(await run(['trust', 'list', 'extra', '--data-dir', a]), /unexpected argument 'extra'/)
    expectBadInput(await run(['trust', 'add', 'nope', '--data-dir', a]), /"nope" is not a PeerId/)
    expectBadInput(await run(['trust', 'remove', creator, '--data-dir', a]), /last trusted signer of swarm "lab"/)
    expectBadInput(await run(['trust', 'remove', friend, '--data-dir', a]), /is not on the trust list of swarm "lab"/)

    const added = await run(['trust', 'add', friend, '--data-dir', a])
    expect(added).toEqual({ code: 0, stdout: `trusted: ${friend} in swarm lab (2 trusted signers)\n`, stderr: '' })
    expect(JSON.parse((await run(['trust', 'list', '--json', '--data-dir', a])).stdout)).toEqual({ swarm: 'lab', trusted: [creator, friend] })

    expect((await run(['swarm', 'create', 'other', '--data-dir', a])).code).toBe(0)
    expectBadInput(await run(['trust', 'list', '--data-dir', a]), /in 2 swarms \(lab, other\); say which with --swarm NAME/)
    expect((await run(['trust', 'list', '--swarm', 'other', '--data-dir', a])).stdout).toBe(`trusted signers of swarm other:\n  ${creator}\n`)
    expect((await run(['trust', 'list', '--data-dir', a], { IDLEGRID_SWARM: 'lab' })).stdout).toContain(friend)
    expectBadInput(await run(['trust', 'list', '--swarm', 'gone', '--data-dir', a]), /not in a swarm named "gone"/)
  })

  it('a running daemon in the swarm uses `trust add` at once and cannot be left under it', async () => {
    const { id, creator } = await createLab()
    const lines: string[] = []
    daemon = await startDaemon({ dataDir: a, config: { ...DEFAULT_CONFIG, maxCores: 1, swarm: 'lab' }, version: 't', log: l => lines.push(l) })
    expect(daemon.node.dhtProtocol).toBe(`/idlegrid/${id}/kad/1.0.0`)
    expect(lines).toContain(`in private swarm "lab" (id ${id}, DHT /idlegrid/${id}/kad/1.0.0); running bundles of 1 trusted signer only`)
    const client = createControlClient({ dataDir: a })
    expect(await client.request('GET', '/v1/swarm')).toMatchObject({ name: 'lab', id, trusted: [creator], runUntrusted: false })

    const friend = await newPeerId()
    const added = await run(['trust', 'add', friend, '--data-dir', a])
    expect(added.stdout).toContain('the running daemon uses the new list now')
    expect(await client.request('GET', '/v1/swarm')).toMatchObject({ trusted: [creator, friend] })

    const leave = await run(['swarm', 'leave', 'lab', '--data-dir', a])
    expect(leave.code).toBe(4)
    expect(leave.stderr).toMatch(/runs in swarm lab; stop it first/)
    expect((await run(['swarm', 'show', 'lab', '--data-dir', a])).code).toBe(0)

    await daemon.stop()
    daemon = undefined
    expect(await run(['swarm', 'leave', 'lab', '--data-dir', a])).toMatchObject({ code: 0, stdout: 'left swarm lab; its key and trust list were deleted from this node\n' })
    expect(await readdir(join(a, 'swarms'))).toEqual([])
  })
})
