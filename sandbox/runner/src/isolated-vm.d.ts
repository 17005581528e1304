import type ivm from 'isolated-vm'

/** The packages to try for a Node major version, the release made for it first. */
export function candidates (nodeMajor: number): string[]
/** The first of `names` that `load` can load; throws an error naming each failure and what to do. */
export function loadFirst<T> (names: string[], load: (name: string) => T): T
/** isolated-vm, in the release built for the running Node (see isolated-vm.js). */
declare const isolatedVm: typeof ivm
export default isolatedVm
export type { Context, Isolate, Reference } from 'isolated-vm'
