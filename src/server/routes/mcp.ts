import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import { McpGateway } from '../../mcp/gateway.js';
import { PinError, ToolPins } from '../../mcp/pins.js';
import { Upstream } from '../../mcp/upstream.js';
import type { Warden } from '../../pipeline/warden.js';
import { type App, fail, jsonBody, pathParam, query, type ServerDeps, text } from '../http.js';

/**
 * The MCP gateway over Streamable HTTP (`/mcp`, stateless: one SDK server per request) and the
 * admin routes for tool pins (`/v1/mcp/pins`). Only `agent` tokens may use `/mcp`: the agent a
 * call acts for is the token's, never anything the client says.
 */
export function registerMcpRoutes(app: App, { warden, tokens }: ServerDeps): void {
  const pins = new ToolPins(warden.store, warden.audit, warden.policy.config.mcp.pinning);
  const upstreams = policyUpstreams(warden);
  const gateway = new McpGateway({ warden, upstreams, pins, namespaced: true });

  app.all('/mcp', async (c) => {
    const match = /^Bearer\s+(\S+)$/i.exec(c.req.header('authorization') ?? '');
    const principal = tokens.authenticate(match?.[1]);
    if (!principal) {
      return fail(
        c,
        'auth.missing-token',
        'a valid agent bearer token is required: send `Authorization: Bearer <token>`',
        { 'www-authenticate': 'Bearer' },
      );
    }
    if (principal.role !== 'agent' || !principal.agent) {
      return fail(
        c,
        'auth.forbidden',
        `role \`${principal.role}\` may not use the MCP gateway; it needs an \`agent\` token`,
      );
    }
    if (upstreams.length === 0) {
      return fail(c, 'mcp.no-servers', 'the policy names no MCP servers: add them under `mcp.servers`');
    }
    const server = gateway.serverFor(principal.agent);
    const transport = new WebStandardStreamableHTTPServerTransport({});
    await server.connect(transport);
    c.req.raw.signal.addEventListener('abort', () => void server.close(), { once: true });
    return transport.handleRequest(c.req.raw);
  });

  app.get('/v1/mcp/pins', async (c) => {
    const p = c.get('principal');
    if (p.role === 'agent') return fail(c, 'auth.forbidden', `role \`agent\` may not read tool pins`);
    const { server } = query(c, { server: text().optional() });
    return c.json({ pins: await pins.list(server || undefined) });
  });
  app.post('/v1/mcp/pins/:server/:tool/approve', async (c) => {
    const p = c.get('principal');
    if (p.role !== 'admin') {
      return fail(c, 'auth.forbidden', `role \`${p.role}\` may not approve tool definitions; it needs admin`);
    }
    const server = pathParam(c, 'server');
    const tool = pathParam(c, 'tool');
    const body = (await jsonBody(c, true)) as { digest?: unknown } | null;
    try {
      const pin = await pins.approve(
        server,
        tool,
        p.name,
        typeof body?.digest === 'string' ? body.digest : undefined,
      );
      return c.json({ pin });
    } catch (e) {
      if (e instanceof PinError) return fail(c, e.code, e.message);
      throw e;
    }
  });
}

/**
 * The policy's `mcp.servers` with a `command` or `url` become upstream connections for `/mcp`.
 * Nothing is started here: each server is spawned or connected on the gateway's first request,
 * and closed with the Warden.
 */
function policyUpstreams(warden: Warden): Upstream[] {
  const servers = Object.entries(warden.policy.config.mcp.servers).filter(([, s]) => s.command || s.url);
  const upstreams = servers.map(([name, server]) => new Upstream({ name, ...server }));
  if (upstreams.length > 0) {
    warden.onClose(async () => {
      await Promise.allSettled(upstreams.map((u) => u.close()));
    });
  }
  return upstreams;
}
