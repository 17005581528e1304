import { spawnSync } from 'node:child_process'
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import ivm, { candidates, loadFirst } from '@idlegrid/sandbox-runner/isolated-vm'

describe('isolated-vm for the running Node', () => {
  it('tries the release made for each Node first: 5.0.4 on 20, 6.2 from 22 on', () => {
    expect(candidates(20)).toEqual(['isolated-vm', 'isolated-vm-6'])
    expect(candidates(22)).toEqual(['isolated-vm-6', 'isolated-vm'])
    expect(candidates(24)).toEqual(['isolated-vm-6', 'isolated-vm'])
  })

  it('loads one on this Node, and it runs code in an isolate', () => {
    const isolate = new ivm.Isolate({ memoryLimit: 16 })
    try {
      expect(isolate.compileScriptSync('6 * 7').runSync(isolate.createContextSync())).toBe(42)
    } finally {
      isolate.dispose()
    }
  })

  it('falls back to the next release when the first cannot be loaded', () => {
    const require = createRequire(new URL('../package.json', import.meta.url))
    const loaded = loadFirst(['isolated-vm-missing', ...candidates(Number(process.versions.node.split('.')[0]))], require)
    expect(loaded).toBe(ivm)
  })

  it('says which releases failed and what to do when none loads', () => {
    const load = (name: string): never => { throw new Error(`Cannot find module '${name}'\nRequire stack: x`) }
    expect(() => loadFirst(['isolated-vm', 'isolated-vm-6'], load)).toThrow(
      `isolated-vm cannot be loaded on Node ${process.versions.node}: install again with the Node that runs IdleGrid (20, 22 or 24), so that it is built for that Node (isolated-vm: Cannot find module 'isolated-vm'; isolated-vm-6: Cannot find module 'isolated-vm-6')`)
  })

  it('a runner whose install has no isolated-vm for this Node exits with one line that says what to do', () => {
    // the runner's files where no node_modules can be found (pnpm's NODE_PATH left out too)
    const dir = mkdtempSync(join(tmpdir(), 'idlegrid-runner-'))
    try {
      cpSync(fileURLToPath(new URL('../src', import.meta.url)), dir, { recursive: true })
      writeFileSync(join(dir, 'package.json'), '{ "type": "module" }')
      const run = spawnSync(process.execPath, ['--no-node-snapshot', join(dir, 'runner.js'), '{}'], { encoding: 'utf8', timeout: 20_000, env: { PATH: process.env.PATH } })
      expect(run.status).toBe(1)
      expect(run.stderr).toBe(`isolated-vm cannot be loaded on Node ${process.versions.node}: install again with the Node that runs IdleGrid (20, 22 or 24), so that it is built for that Node (${
        candidates(Number(process.versions.node.split('.')[0])).map(name => `${name}: Cannot find module '${name}'`).join('; ')})\n`)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
