// Config loading: defaults, precedence (flags > env > config.json > defaults)
// and validation messages that name source, field, value and range.
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { DEFAULT_CONFIG, loadConfig } from '../src/config.js'

const machine = { cpuCores: 8, totalMemoryMb: 16_000 }
const PEER = '12D3KooWKd8AeBpfhwy8ShkZgxsocSDiowyHUu9YBp7xWy9VUfLR'

describe('config', () => {
  let dataDir: string

  beforeEach(async () => { dataDir = await mkdtemp(join(tmpdir(), 'idlegrid-config-')) })
  afterEach(async () => { await rm(dataDir, { recursive: true, force: true }) })

  const writeConfig = async (value: unknown): Promise<void> => {
    await writeFile(join(dataDir, 'config.json'), typeof value === 'string' ? value : JSON.stringify(value))
  }

  it('uses defaults when nothing is set', async () => {
    const { config, origins } = await loadConfig({ dataDir, env: {}, machine })
    expect(config).toEqual(DEFAULT_CONFIG)
    expect(config.maxCores).toBeUndefined()
    expect(origins.listen).toBe('default')
  })

  it('lets flags win over env, env over config.json, config.json over defaults', async () => {
    await writeConfig({ maxCores: 2, maxMemoryMb: 1000, shareGpu: true, mdns: true })
    const { config, origins } = await loadConfig({
      dataDir,
      machine,
      env: { IDLEGRID_MAX_CORES: '3', IDLEGRID_MAX_MEMORY: '2000', IDLEGRID_BOOTSTRAP: `/ip4/127.0.0.1/tcp/1/p2p/${PEER}, /ip4/127.0.0.1/tcp/2/p2p/${PEER}` },
      flags: { 'max-cores': '4', 'share-gpu': false }
    })
    expect(config).toMatchObject({ maxCores: 4, maxMemoryMb: 2000, shareGpu: false, mdns: true, controlPort: 0 })
    expect(config.bootstrap).toEqual([`/ip4/127.0.0.1/tcp/1/p2p/${PEER}`, `/ip4/127.0.0.1/tcp/2/p2p/${PEER}`])
    expect(origins).toMatchObject({ maxCores: '--max-cores', maxMemoryMb: 'IDLEGRID_MAX_MEMORY', shareGpu: '--share-gpu', mdns: 'config.json', controlPort: 'default', bootstrap: 'IDLEGRID_BOOTSTRAP' })
  })

  it('replaces lists rather than merging them', async () => {
    await writeConfig({ listen: ['/ip4/127.0.0.1/tcp/4001'] })
    const { config } = await loadConfig({ dataDir, machine, env: {}, flags: { listen: ['/ip4/127.0.0.1/tcp/4002', '/ip4/127.0.0.1/tcp/4003'] } })
    expect(config.listen).toEqual(['/ip4/127.0.0.1/tcp/4002', '/ip4/127.0.0.1/tcp/4003'])
  })

  it('names file, field, value and range for a bad config.json value', async () => {
    await writeConfig({ maxCores: 'lots' })
    await expect(loadConfig({ dataDir, env: {}, machine })).rejects.toMatchObject({
      name: 'ConfigError', message: "config.json: maxCores must be an integer between 1 and 8, got 'lots'"
    })
    await writeConfig({ maxCores: 9 })
    await expect(loadConfig({ dataDir, env: {}, machine })).rejects.toThrow('config.json: maxCores must be an integer between 1 and 8, got 9')
    await writeConfig({ mdns: 'maybe' })
    await expect(loadConfig({ dataDir, env: {}, machine })).rejects.toThrow("config.json: mdns must be true or false, got 'maybe'")
  })

  it('names the environment variable or flag that is wrong', async () => {
    await expect(loadConfig({ dataDir, machine, env: { IDLEGRID_MAX_MEMORY: '1.5' } })).rejects.toThrow("IDLEGRID_MAX_MEMORY must be an integer between 1 and 16000, got '1.5'")
    await expect(loadConfig({ dataDir, machine, env: {}, flags: { 'control-port': '70000' } })).rejects.toThrow("--control-port must be an integer between 0 and 65535, got '70000'")
    await expect(loadConfig({ dataDir, machine, env: { IDLEGRID_SHARE_GPU: 'sure' } })).rejects.toThrow("IDLEGRID_SHARE_GPU must be true or false, got 'sure'")
  })

  it('rejects malformed JSON, non-objects and unknown fields, saying how to fix them', async () => {
    await writeConfig('{"maxCores": 2,')
    await expect(loadConfig({ dataDir, env: {}, machine })).rejects.toMatchObject({ name: 'ConfigError', message: expect.stringMatching(/config\.json is not valid JSON .*fix it or remove it/) })
    await writeConfig('[1]')
    await expect(loadConfig({ dataDir, env: {}, machine })).rejects.toThrow(/must hold a JSON object.*got an array/)
    await writeConfig({ maxCore: 2 })
    await expect(loadConfig({ dataDir, env: {}, machine })).rejects.toThrow(/config\.json: unknown field 'maxCore'; allowed fields are listen, bootstrap, mdns, maxCores/)
  })

  it('rejects addresses that are not multiaddrs, and bootstrap addresses without /p2p/', async () => {
    await expect(loadConfig({ dataDir, machine, env: {}, flags: { bootstrap: ['not-a-multiaddr'] } })).rejects.toMatchObject({
      name: 'InvalidMultiaddrError', message: expect.stringMatching(/^--bootstrap: 'not-a-multiaddr' is not a multiaddr/)
    })
    await expect(loadConfig({ dataDir, machine, env: {}, flags: { bootstrap: ['/ip4/127.0.0.1/tcp/4001'] } })).rejects.toThrow(/must end in \/p2p\/<PeerId>/)
    await writeConfig({ listen: ['/ip4/999.1.1.1/tcp/1'] })
    await expect(loadConfig({ dataDir, machine, env: {} })).rejects.toThrow(/^config\.json: listen: '\/ip4\/999\.1\.1\.1\/tcp\/1' is not a multiaddr/)
    await writeConfig({ listen: '/ip4/127.0.0.1/tcp/1' })
    expect((await loadConfig({ dataDir, machine, env: {} })).config.listen).toEqual(['/ip4/127.0.0.1/tcp/1'])
  })
})
