#!/usr/bin/env node
// Entry point of the `idlegrid` command: loads the TypeScript sources through
// tsx so the workspace runs without a build step.
import { register } from 'tsx/esm/api'

register()
await import('../src/main.ts')
