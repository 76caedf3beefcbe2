import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import type { Hono } from 'hono';
import { McpGateway } from '../../mcp/gateway.js';
import { PinError, ToolPins } from '../../mcp/pins.js';
import { Upstream } from '../../mcp/upstream.js';
import type { Warden } from '../../pipeline/warden.js';
import type { Principal, TokenRegistry } from '../tokens.js';

// biome-ignore lint/suspicious/noExplicitAny: the app's Env type is private to app.ts
type AnyApp = Hono<any>;

const error = (code: string, message: string) => ({ error: { code, message } });

/**
 * The MCP gateway over Streamable HTTP (`/mcp`, stateless: one SDK server per request) and the
 * admin routes for tool pins (`/v1/mcp/pins`). Only `agent` tokens may use `/mcp`: the agent a
 * call acts for is the token's, never anything the client says.
 */
export function registerMcpRoutes(app: AnyApp, warden: Warden, tokens: TokenRegistry): void {
  const pins = new ToolPins(warden.store, warden.audit, warden.policy.config.mcp.pinning);
  const upstreams = policyUpstreams(warden);
  const gateway = new McpGateway({ warden, upstreams, pins, namespaced: true });

  app.all('/mcp', async (c) => {
    const match = /^Bearer\s+(\S+)$/i.exec(c.req.header('authorization') ?? '');
    const principal = tokens.authenticate(match?.[1]);
    if (!principal) {
      return c.json(
        error(
          'auth.missing-token',
          'a valid agent bearer token is required: send `Authorization: Bearer <token>`',
        ),
        401,
        { 'www-authenticate': 'Bearer' },
      );
    }
    if (principal.role !== 'agent' || !principal.agent) {
      return c.json(
        error(
          'auth.forbidden',
          `role \`${principal.role}\` may not use the MCP gateway; it needs an \`agent\` token`,
        ),
        403,
      );
    }
    if (upstreams.length === 0) {
      return c.json(
        error('mcp.no-servers', 'the policy names no MCP servers: add them under `mcp.servers`'),
        404,
      );
    }
    const server = gateway.serverFor(principal.agent);
    const transport = new WebStandardStreamableHTTPServerTransport({});
    await server.connect(transport);
    c.req.raw.signal.addEventListener('abort', () => void server.close(), { once: true });
    return transport.handleRequest(c.req.raw);
  });

  const isAdmin = (p: Principal) => p.role === 'admin';
  app.get('/v1/mcp/pins', async (c) => {
    const p = c.get('principal') as Principal;
    if (p.role === 'agent')
      return c.json(error('auth.forbidden', `role \`agent\` may not read tool pins`), 403);
    return c.json({ pins: await pins.list(c.req.query('server') || undefined) });
  });
  app.post('/v1/mcp/pins/:server/:tool/approve', async (c) => {
    const p = c.get('principal') as Principal;
    if (!isAdmin(p)) {
      return c.json(
        error('auth.forbidden', `role \`${p.role}\` may not approve tool definitions; it needs admin`),
        403,
      );
    }
    let body: { digest?: unknown } = {};
    const text = await c.req.text();
    if (text.trim() !== '') {
      try {
        body = JSON.parse(text) as { digest?: unknown };
      } catch (e) {
        return c.json(
          error('validate.invalid', `the request body is not JSON (${(e as Error).message})`),
          400,
        );
      }
    }
    try {
      const pin = await pins.approve(
        c.req.param('server'),
        c.req.param('tool'),
        p.name,
        typeof body?.digest === 'string' ? body.digest : undefined,
      );
      return c.json({ pin });
    } catch (e) {
      if (e instanceof PinError)
        return c.json(error(e.code, e.message), e.code === 'mcp.pin-not-found' ? 404 : 409);
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
