// Vitest setup for every suite: libp2p v3 needs Promise.withResolvers.
import '@idlegrid/interface/polyfill'
