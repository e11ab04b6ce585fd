// uWebSockets.js silently falls back to a slow JS implementation when its native binary does not
// load (another Node ABI, or UWS_USE_FALLBACK). The native module exposes getParts and SSLApp; the
// fallback does not. The gateway refuses to run on the fallback.
import { createRequire } from 'node:module';

export type Uws = typeof import('uWebSockets.js');

export function loadNativeUws(): Uws {
  const require = createRequire(import.meta.url);
  const uws = require('uWebSockets.js') as Uws;
  if (typeof (uws as { getParts?: unknown }).getParts !== 'function' || typeof uws.SSLApp !== 'function') {
    const why = process.env.UWS_USE_FALLBACK
      ? 'UWS_USE_FALLBACK is set'
      : `no native binary for Node ${process.versions.node} (ABI ${process.versions.modules}) on ${process.platform}-${process.arch}; use Node 20`;
    throw new Error(`uWebSockets.js loaded its slow JS fallback (${why}); refusing to start the gateway on it`);
  }
  return uws;
}
