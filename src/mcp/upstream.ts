import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { getDefaultEnvironment } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import {
  type CallToolRequest,
  type CallToolResult,
  ErrorCode,
  type JSONRPCError,
  McpError,
  type Tool,
  ToolListChangedNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js';
import type { ToolAction } from '../policy/sections/mcp.js';
import { pinnedDefinition } from './pins.js';
import { type LineSender, withId } from './raw-lines.js';
import { type CheckedByReceiver, StdioLinesClientTransport } from './stdio-lines.js';
import { mappingsOf } from './tool-mapping.js';

/** Where and how to reach one upstream MCP server. */
export interface UpstreamSpec {
  name: string;
  command?: string | undefined;
  args?: readonly string[];
  env?: Record<string, string>;
  cwd?: string | undefined;
  url?: string | undefined;
  headers?: Record<string, string>;
  preset?: 'filesystem' | 'none';
  tools?: Record<string, ToolAction | ToolAction[]>;
  /** A transport of your own instead of `command`/`url` (e.g. an in-process server); made anew per connection. */
  transport?: () => Transport;
}

/** A tool as the gateway knows it: the upstream definition and its pinned digest. */
export interface UpstreamTool {
  tool: Tool;
  digest: string;
}

/**
 * One connected upstream server, through the official SDK client: its tools (refetched on
 * `tools/list_changed` and whenever a client lists tools) and `callTool`, which returns the
 * upstream result as it came.
 */
export class Upstream {
  readonly name: string;
  readonly mappings: Map<string, ToolAction[]>;
  readonly #client: Client;
  readonly #spec: UpstreamSpec;
  #tools = new Map<string, UpstreamTool>();
  #connected: Promise<void> | undefined;
  /** The server's start and MCP handshake, begun by {@link prepare} before `connect`. */
  #handshake: Promise<void> | undefined;
  #calls: DirectCalls | undefined;
  /** Called with the fresh list whenever the tools are fetched. */
  onTools: ((tools: UpstreamTool[]) => Promise<void>) | undefined;

  constructor(spec: UpstreamSpec) {
    this.name = spec.name;
    this.#spec = spec;
    this.mappings = mappingsOf({ preset: spec.preset ?? 'none', tools: spec.tools ?? {} });
    this.#client = new Client({ name: `warden-gateway/${spec.name}`, version: '0.1.0' });
  }

  /** Connects once (later calls share the first attempt) and fetches the tools. */
  connect(): Promise<void> {
    this.#connected ??= this.#connect().catch((error: unknown) => {
      this.#connected = undefined; // a later request may try again
      throw new Error(`MCP server \`${this.name}\` is unavailable: ${(error as Error).message}`);
    });
    return this.#connected;
  }

  /**
   * Starts the server and its MCP handshake now, without fetching its tools, so that the server's
   * start overlaps Warden's own; `connect` finishes it. The tools are fetched (and so handed to
   * `onTools`, which pins them) only by `connect`, once whoever listens is in place. A failure
   * here is reported by `connect`.
   */
  prepare(): void {
    if (this.#connected || this.#handshake) return;
    this.#handshake = (async () => this.#client.connect(await transportFor(this.#spec)))();
    this.#handshake.catch(() => {});
  }

  async #connect(): Promise<void> {
    const prepared = this.#handshake;
    this.#handshake = undefined;
    await (prepared ?? this.#client.connect(await transportFor(this.#spec)));
    this.#calls = new DirectCalls(this.#client.transport as Transport, this.name);
    // An upstream that exits (or drops the connection) is started again by the next request.
    this.#client.onclose = () => {
      this.#connected = undefined;
      this.#calls?.closed();
    };
    if (this.#client.getServerCapabilities()?.tools?.listChanged) {
      this.#client.setNotificationHandler(ToolListChangedNotificationSchema, () => {
        this.refresh().catch((error: unknown) =>
          process.emitWarning(`refreshing the tools of MCP server \`${this.name}\` failed: ${String(error)}`),
        );
      });
    }
    await this.refresh();
  }

  /** Fetches every page of the upstream's tools. */
  async refresh(): Promise<UpstreamTool[]> {
    const tools = new Map<string, UpstreamTool>();
    let cursor: string | undefined;
    do {
      const page = await this.#client.listTools(cursor === undefined ? {} : { cursor });
      for (const tool of page.tools) tools.set(tool.name, { tool, digest: pinnedDefinition(tool).digest });
      cursor = page.nextCursor;
    } while (cursor);
    this.#tools = tools;
    const list = [...tools.values()];
    await this.onTools?.(list);
    return list;
  }

  tool(name: string): UpstreamTool | undefined {
    return this.#tools.get(name);
  }

  /**
   * The upstream's result, unchanged (no output validation or defaults applied). Sent on the
   * client's transport directly, not through `Client.request`: see {@link DirectCalls}. With
   * `request` (the client's own `tools/call` line and id, asking for these same `params`) and a
   * stdio upstream, those bytes are forwarded with an id of the gateway's instead of re-encoded;
   * {@link upstreamLine} then gives the answer's bytes.
   */
  async callTool(
    params: CallToolRequest['params'],
    signal?: AbortSignal,
    request?: RawRequest,
  ): Promise<CallToolResult> {
    if (!this.#calls) throw new Error(`MCP server \`${this.name}\` is not connected`);
    return (await this.#calls.request('tools/call', params, signal, request)) as CallToolResult;
  }

  async close(): Promise<void> {
    await this.#client.close();
  }
}

const DIRECT_ID_PREFIX = 'warden-';

/** A client's request as it arrived: its JSON line and its id. */
export interface RawRequest {
  line: string;
  id: string | number;
}

/** The answer line each result came in (with the gateway's id in it), for results read off a stdio upstream. */
const answerLines = new WeakMap<object, RawRequest>();

/**
 * The upstream's answer to a {@link Upstream.callTool} as the JSON line it came in, its id
 * changed to `id`; undefined when `result` is not such an answer, as it came (a result the
 * gateway changed, or refused, is re-encoded by whoever sends it).
 */
export function upstreamLine(result: object, id: string | number): string | undefined {
  const answer = answerLines.get(result);
  return answer && withId(answer.line, answer.id, id);
}

/** A response to one of {@link DirectCalls}' requests: taken, and checked, by it alone. */
const isDirectResponse: CheckedByReceiver = (m) =>
  typeof m.id === 'string' && m.id.startsWith(DIRECT_ID_PREFIX) && m.method === undefined;

/**
 * Requests sent on a connected SDK client's transport without `Client.request` (which parses
 * every result against a schema and arms a timer per call), with ids of their own (`warden-N`)
 * so that they never collide with the client's; their responses are taken off the transport
 * before the client sees them. Warden's execution deadline governs how long a call may take:
 * it aborts `signal`, which cancels the call upstream (`notifications/cancelled`).
 */
class DirectCalls {
  readonly #transport: Transport;
  readonly #lines: LineSender | undefined;
  readonly #server: string;
  readonly #pending = new Map<
    string,
    { resolve: (result: unknown) => void; reject: (error: Error) => void }
  >();
  #next = 0;

  constructor(transport: Transport, server: string) {
    this.#transport = transport;
    this.#server = server;
    const client = transport.onmessage;
    transport.onmessage = (message, extra) => {
      if (isDirectResponse(message as Record<string, unknown>)) this.#answer(message);
      else client?.(message, extra);
    };
    // A stdio upstream hands over the line too: the answer can go back downstream as it came.
    if (transport instanceof StdioLinesClientTransport) {
      this.#lines = transport;
      transport.onrawmessage = (message, line) => {
        if (!isDirectResponse(message)) return false;
        this.#answer(message, line);
        return true;
      };
    }
  }

  /** Settles the call `message` answers (everything else on the connection goes to the SDK client). */
  #answer(message: unknown, line?: string): void {
    const m = message as { id: string; result?: unknown; error?: unknown };
    const pending = this.#pending.get(m.id);
    if (!pending) return; // a late answer to a call already cancelled: nothing waits for it
    this.#pending.delete(m.id);
    const error = m.error as Partial<JSONRPCError['error']> | undefined;
    if (error !== undefined) {
      const code = typeof error?.code === 'number' ? error.code : ErrorCode.InternalError;
      const text = typeof error?.message === 'string' ? error.message : JSON.stringify(error);
      pending.reject(new McpError(code, text, error?.data));
    } else if (m.result !== null && typeof m.result === 'object' && !Array.isArray(m.result)) {
      if (line !== undefined) answerLines.set(m.result, { line, id: m.id });
      pending.resolve(m.result);
    } else {
      pending.reject(
        new McpError(
          ErrorCode.InvalidRequest,
          `MCP server \`${this.#server}\` answered with a malformed response (no result object or error)`,
        ),
      );
    }
  }

  request(method: string, params: unknown, signal?: AbortSignal, raw?: RawRequest): Promise<unknown> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    const id = `${DIRECT_ID_PREFIX}${++this.#next}`;
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        if (!this.#pending.delete(id)) return;
        const reason = String(
          signal?.reason instanceof Error ? signal.reason.message : (signal?.reason ?? 'aborted'),
        );
        this.#transport
          .send({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: id, reason } })
          .catch(() => undefined);
        reject(signal?.reason instanceof Error ? signal.reason : new Error(reason));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      const settle =
        <T>(fn: (value: T) => void) =>
        (value: T) => {
          signal?.removeEventListener('abort', onAbort);
          fn(value);
        };
      this.#pending.set(id, { resolve: settle(resolve), reject: settle(reject) });
      // The client's bytes with this call's id, when the line allows it; else the message re-encoded.
      const line = raw && this.#lines ? withId(raw.line, raw.id, id) : undefined;
      (line === undefined
        ? this.#transport.send({ jsonrpc: '2.0', id, method, params: params as Record<string, unknown> })
        : (this.#lines as LineSender).sendLine(line)
      ).catch((error: Error) => {
        if (this.#pending.delete(id)) settle(reject)(error);
      });
    });
  }

  /** The connection is gone: every call still waiting fails. */
  closed(): void {
    const error = new McpError(
      ErrorCode.ConnectionClosed,
      `MCP server \`${this.#server}\` closed the connection`,
    );
    for (const pending of this.#pending.values()) pending.reject(error);
    this.#pending.clear();
  }
}

/** The connection to `spec`'s server; the Streamable HTTP client (and its packages) loads only for a `url`. */
async function transportFor(spec: UpstreamSpec): Promise<Transport> {
  if (spec.transport) return spec.transport();
  if (spec.url) {
    const { StreamableHTTPClientTransport } = await import(
      '@modelcontextprotocol/sdk/client/streamableHttp.js'
    );
    return new StreamableHTTPClientTransport(new URL(spec.url), {
      requestInit: { headers: spec.headers ?? {} },
    });
  }
  if (!spec.command) {
    throw new Error(`MCP server \`${spec.name}\` has neither \`command\` nor \`url\`: give it one`);
  }
  return new StdioLinesClientTransport(
    {
      command: spec.command,
      args: [...(spec.args ?? [])],
      // A minimal environment (the SDK's safe defaults) plus what the policy names: the gateway's
      // own secrets are not handed to upstream servers.
      env: { ...getDefaultEnvironment(), ...(spec.env ?? {}) },
      ...(spec.cwd ? { cwd: spec.cwd } : {}),
      stderr: 'inherit',
    },
    { checkedByReceiver: isDirectResponse },
  );
}
