// isolated-vm, in the release built for the Node that runs this process.
// No one release installs on every Node IdleGrid supports: 5.0.4 builds on
// Node 20 and 22 but not on 24 (V8's headers there need C++20), and 6.2
// declares Node 22 or later (it ships binaries for 22 and 24). Both are
// optional dependencies of this package, 6.2 as `isolated-vm-6`: an install
// skips or fails to build the one its Node cannot take, and goes on
// (docs/node-versions.md).
import { createRequire } from 'node:module'

/**
 * The packages to try for a Node major version, the release made for it first.
 * @param {number} nodeMajor
 * @returns {string[]}
 */
export function candidates (nodeMajor) {
  return nodeMajor >= 22 ? ['isolated-vm-6', 'isolated-vm'] : ['isolated-vm', 'isolated-vm-6']
}

/**
 * The first of `names` that `load` can load; an error naming each failure
 * and what to do when none can.
 * @template T
 * @param {string[]} names
 * @param {(name: string) => T} load
 * @returns {T}
 */
export function loadFirst (names, load) {
  const failures = []
  for (const name of names) {
    try {
      return load(name)
    } catch (err) {
      failures.push(`${name}: ${String(err instanceof Error ? err.message : err).split('\n')[0].slice(0, 160)}`)
    }
  }
  throw new Error(`isolated-vm cannot be loaded on Node ${process.versions.node}: install again with the Node ` +
    `that runs IdleGrid (20, 22 or 24), so that it is built for that Node (${failures.join('; ')})`)
}

/** @type {typeof import('isolated-vm')} */
const ivm = loadFirst(candidates(Number(process.versions.node.split('.')[0])), createRequire(import.meta.url))
export default ivm
