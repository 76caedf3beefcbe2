import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { getDefaultEnvironment } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import {
  type CallToolRequest,
  type CallToolResult,
  type Tool,
  ToolListChangedNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js';
import type { StopHook } from '../execute/run-control.js';
import type { ToolAction } from '../policy/sections/mcp.js';
import { lazyValidator } from './lazy-validator.js';
import { pinnedDefinition } from './pins.js';
import { type StartedProcess, StdioLinesClientTransport } from './stdio-lines.js';
import { mappingsOf } from './tool-mapping.js';
import { DirectCalls, isDirectResponse, type RawRequest, type UpstreamProgress } from './upstream-calls.js';

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
  /** The `command` already started with exactly these args, env and cwd: the first connection adopts it. */
  started?: StartedProcess;
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
  /** The latest fetch of the tools: when it began (`performance.now()`) and its list. */
  #fetch: { began: number; list: Promise<UpstreamTool[]> } | undefined;
  /**
   * Called with the fresh list whenever the tools are fetched; `changed` when the server said the
   * tools changed, or a tool came, went or changed in any field since the previous fetch (never on
   * the first fetch).
   */
  onTools: ((tools: UpstreamTool[], changed: boolean) => Promise<void>) | undefined;

  constructor(spec: UpstreamSpec) {
    this.name = spec.name;
    this.#spec = spec;
    this.mappings = mappingsOf({ preset: spec.preset ?? 'none', tools: spec.tools ?? {} });
    this.#client = new Client(
      { name: `warden-gateway/${spec.name}`, version: '0.1.0' },
      { jsonSchemaValidator: lazyValidator() },
    );
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
        this.refresh(true).catch((error: unknown) =>
          process.emitWarning(`refreshing the tools of MCP server \`${this.name}\` failed: ${String(error)}`),
        );
      });
    }
    await this.refresh();
  }

  /** Fetches every page of the upstream's tools; `notified`: the server said they changed. */
  refresh(notified = false): Promise<UpstreamTool[]> {
    const list = this.#fetchTools(notified);
    this.#fetch = { began: performance.now(), list };
    return list;
  }

  /**
   * The tools as fetched by a fetch that began at `since` (a `performance.now()`) or later: that
   * one when there is one (the fetch `connect` makes once the server is up, for a listing that
   * waited for it), else a new one. Either way nothing older than `since` is answered.
   */
  listedSince(since: number): Promise<UpstreamTool[]> {
    const last = this.#fetch;
    return last && last.began >= since ? last.list.catch(() => this.refresh()) : this.refresh();
  }

  async #fetchTools(notified: boolean): Promise<UpstreamTool[]> {
    const tools = new Map<string, UpstreamTool>();
    let cursor: string | undefined;
    do {
      const page = await this.#client.listTools(cursor === undefined ? {} : { cursor });
      for (const tool of page.tools) tools.set(tool.name, { tool, digest: pinnedDefinition(tool).digest });
      cursor = page.nextCursor;
    } while (cursor);
    const changed = this.#listed && (notified || differ(this.#tools, tools));
    this.#tools = tools;
    this.#listed = true;
    const list = [...tools.values()];
    await this.onTools?.(list, changed);
    return list;
  }

  /** Whether the tools were fetched once already: the first fetch changes nothing a client saw. */
  #listed = false;

  tool(name: string): UpstreamTool | undefined {
    return this.#tools.get(name);
  }

  /**
   * The upstream's result, unchanged (no output validation or defaults applied). Sent on the
   * client's transport directly, not through `Client.request`: see {@link DirectCalls}. With
   * `request` (the client's own `tools/call` line and id, asking for these same `params`) and a
   * stdio upstream, those bytes are forwarded with an id of the gateway's instead of re-encoded;
   * {@link upstreamLine} then gives the answer's bytes. `stop` cancels the call: a signal, or an
   * execution context's `onStop`. `onProgress` gets the server's progress notifications for
   * this call (the request is then re-encoded: see {@link DirectCalls.request}).
   */
  async callTool(
    params: CallToolRequest['params'],
    stop?: AbortSignal | StopHook,
    request?: RawRequest,
    onProgress?: (progress: UpstreamProgress) => void,
  ): Promise<CallToolResult> {
    if (!this.#calls) throw new Error(`MCP server \`${this.name}\` is not connected`);
    return (await this.#calls.request('tools/call', params, stop, request, onProgress)) as CallToolResult;
  }

  async close(): Promise<void> {
    await this.#client.close();
  }
}

/** Whether a tool came, went or changed in any field (a title or output schema too, not only its pinned part). */
function differ(before: Map<string, UpstreamTool>, after: Map<string, UpstreamTool>): boolean {
  if (before.size !== after.size) return true;
  for (const [name, now] of after) {
    const then = before.get(name);
    if (!then || then.digest !== now.digest || JSON.stringify(then.tool) !== JSON.stringify(now.tool))
      return true;
  }
  return false;
}

const adopted = new WeakSet<StartedProcess>();

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
  // Adopted once: a server started again (after it exited) is a new process.
  const started = spec.started && !adopted.has(spec.started) ? spec.started : undefined;
  if (started) adopted.add(started);
  return new StdioLinesClientTransport(
    {
      ...(started ? { started } : {}),
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
