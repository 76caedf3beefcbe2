import { randomBytes } from 'node:crypto';
import { serveToolCallsDirectly, toolCallsCheckedHere } from '../../mcp/direct-calls.js';
import { McpGateway } from '../../mcp/gateway.js';
import { ToolPins } from '../../mcp/pins.js';
import { StdioLinesServerTransport } from '../../mcp/stdio-lines.js';
import type { Upstream } from '../../mcp/upstream.js';
import { createWarden, type Warden } from '../../pipeline/warden.js';
import type { CompiledPolicy } from '../../policy/compile.js';
import type { Store } from '../../store/store.js';
import { CliError } from '../common.js';

/** What `warden mcp` has settled before the upstream server started. */
export interface GatewayStart {
  /** Already started (`prepare`): its start overlaps the loading and opening done here. */
  upstream: Upstream;
  policy: CompiledPolicy;
  agent: string;
  /** The store, opening meanwhile (`storeOf`: --db, $WARDEN_DB or the policy's `store`). */
  store: Promise<Store>;
  session: string | undefined;
}

/**
 * The rest of `warden mcp`, loaded while the upstream server starts: opens the store, builds the
 * Warden and the gateway, then serves the client on stdio until it goes away.
 */
export async function serveGateway({
  upstream,
  policy,
  agent,
  store: opening,
  session: named,
}: GatewayStart): Promise<void> {
  let store: Store | undefined;
  let warden: Warden;
  try {
    store = await opening;
    warden = await createWarden({ policy, store });
  } catch (error) {
    await Promise.allSettled([upstream.close(), store?.close()]);
    throw error;
  }
  const pins = new ToolPins(store, warden.audit, policy.config.mcp.pinning);
  const gateway = new McpGateway({ warden, upstreams: [upstream], pins, namespaced: false });
  const shutdown = async () => {
    await gateway.close();
    await warden.close();
    await store.close();
  };
  // The client is served while the upstream server finishes its start: its `initialize` is
  // answered at once, and its first `tools/list` (or call) waits for the server and uses the
  // listing made as it came up. A server that cannot start still ends `warden mcp` with its error.
  const starting = gateway.start();
  starting.catch(() => undefined);
  const session = named ?? `mcp-${randomBytes(6).toString('hex')}`;
  // A generated session is this process's own: nothing else can decide in it (see ServeOptions).
  const serving = { elicitation: true, session, ownSession: named === undefined };
  const server = gateway.serverFor(agent, serving);
  const observe = upstream.onTools;
  // The client hears of a change, not of every fetch: a client that lists again on the
  // notification would otherwise be sent another one for that listing, and so on.
  upstream.onTools = async (tools, changed) => {
    await observe?.(tools, changed);
    if (changed) await server.sendToolListChanged().catch(() => undefined);
  };
  const transport = new StdioLinesServerTransport({ checkedByReceiver: toolCallsCheckedHere });
  let closing = false;
  const stop = () => {
    if (closing) return;
    closing = true;
    void shutdown().finally(() => process.exit(0));
  };
  transport.onclose = stop;
  process.stdin.once('end', stop);
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  await server.connect(transport);
  serveToolCallsDirectly(transport, (params, extra) =>
    gateway.serveCall(server, agent, params, extra, serving),
  );
  try {
    await starting;
  } catch (error) {
    if (closing) return; // the client went away first: its shutdown stopped the server
    closing = true;
    await shutdown();
    throw new CliError((error as Error).message, 1);
  }
}
