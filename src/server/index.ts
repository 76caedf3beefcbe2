/**
 * Warden's HTTP control plane (`warden/server`): the Hono app, the server that listens for it, and
 * the bearer tokens it authenticates. A subpath of its own so that `import 'warden'` loads no
 * HTTP framework.
 *
 * @example
 * import { createWarden, loadPolicyFile, openSqliteStore } from 'warden';
 * import { loadTokens, startServer } from 'warden/server';
 * const warden = await createWarden({ policy: loadPolicyFile('warden.yaml'), store: await openSqliteStore('.warden/warden.db') });
 * const server = await startServer(warden, loadTokens('.warden/tokens.json'), { port: 8787 });
 */

export { createApp } from './app.js';
export type { RunningServer, ServerOptions } from './serve.js';
export { startServer } from './serve.js';
export type { Principal, Role } from './tokens.js';
export { createToken, hashToken, loadTokens, TokenRegistry } from './tokens.js';
