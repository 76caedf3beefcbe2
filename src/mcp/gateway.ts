// One file because listing, calling, elicitation and refusals share the gateway's upstreams, pins and Warden.
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import {
  type CallToolRequest,
  CallToolRequestSchema,
  type CallToolResult,
  ListToolsRequestSchema,
  type ServerNotification,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js';
import { reviewOutput } from '../adapters/core.js';
import type { Decision, Reason } from '../contract/decision.js';
import type { RunResult, Warden } from '../pipeline/warden.js';
import type { ApprovalRecord } from '../store/store.js';
import { lazyValidator } from './lazy-validator.js';
import type { PinState, ToolPins } from './pins.js';
import { actionsFor, type MappedAction, typesOf } from './tool-mapping.js';
import type { Upstream, UpstreamTool } from './upstream.js';
import type { RawRequest, UpstreamProgress } from './upstream-calls.js';

/** Between a server's name and its tool's in aggregated tool names: `files__read_file`. */
export const NAMESPACE_SEPARATOR = '__';

export interface GatewayOptions {
  warden: Warden;
  upstreams: readonly Upstream[];
  pins: ToolPins;
  /** Prefix each tool with `<server>__` (needed when several servers are aggregated). Default: more than one upstream. */
  namespaced?: boolean;
}

/** What a call refused by the gateway or by Warden looks like to the model: a tool error it can read. */
export function refusal(reason: Reason, decision?: Pick<Decision, 'id'>): CallToolResult {
  return {
    content: [{ type: 'text', text: `Refused by Warden (${reason.code}): ${reason.message}` }],
    isError: true,
    _meta: { 'warden/reason': reason, ...(decision ? { 'warden/decision': decision.id } : {}) },
  };
}

/** What answering one call needs from its connection: the SDK's request `extra`, or the direct path's. */
export interface CallExtra {
  signal: AbortSignal;
  requestId: string | number;
  sendNotification: (notification: ServerNotification) => Promise<void>;
  /** The request as the client sent it (one JSON line), where the transport gives it: forwarded as is. */
  requestLine?: string;
}

interface CallContext {
  signal?: AbortSignal;
  /** The client's `tools/call` as it arrived: forwarded upstream byte for byte (its id swapped) when the tool keeps its name. */
  request?: RawRequest;
  /** Called once a call waits for approval. */
  onApprovalRequested?: (request: ApprovalRecord) => void;
  /** The upstream's progress notifications for this call, when the client asked for progress. */
  onProgress?: (progress: UpstreamProgress) => void;
  session?: string;
  /**
   * The session is the gateway's own (generated, given to no one): no other process or later run
   * decides in it, so what it reads rides the next commit instead of one of its own.
   */
  ownSession?: boolean;
}

/** How the gateway serves one client's calls. */
export interface ServeOptions {
  session?: string;
  /** See {@link CallContext.ownSession}. */
  ownSession?: boolean;
  elicitation?: boolean;
}

/**
 * The MCP gateway: every `tools/call` becomes Warden action(s) run through the whole pipeline, the
 * upstream `callTool` being the executor; `tools/list` shows an agent only the tools whose action
 * types its grants admit and whose definitions are approved (pinned).
 */
export class McpGateway {
  readonly warden: Warden;
  readonly upstreams: readonly Upstream[];
  readonly pins: ToolPins;
  readonly namespaced: boolean;

  constructor(options: GatewayOptions) {
    this.warden = options.warden;
    this.upstreams = options.upstreams;
    this.pins = options.pins;
    this.namespaced = options.namespaced ?? options.upstreams.length > 1;
    for (const upstream of this.upstreams) {
      upstream.onTools = async (tools) => {
        for (const { tool } of tools) await this.pins.observe(upstream.name, tool);
      };
    }
  }

  /** Connects every upstream not connected yet (a failed or lost one is retried by the next request). */
  async start(): Promise<void> {
    await Promise.all(this.upstreams.map((u) => u.connect()));
  }

  /** The tools `agent` may use, refetched from every upstream so a changed definition is seen at once. */
  async listTools(agent: string): Promise<Tool[]> {
    // A fetch that begins from now on is as fresh as one made for this request: the one an upstream
    // still starting makes once it is up serves this listing too (one round trip, not two).
    const asked = performance.now();
    await this.start();
    const compiled = this.warden.policy.agents.get(agent);
    if (!compiled) return [];
    const lists = await Promise.all(this.upstreams.map((u) => u.listedSince(asked)));
    const out: Tool[] = [];
    for (const [i, upstream] of this.upstreams.entries()) {
      for (const entry of lists[i] as UpstreamTool[]) {
        const types = typesOf(upstream.name, entry.tool.name, upstream.mappings);
        if (!types.every((t) => compiled.allows(t) && !compiled.denies(t))) continue;
        if ((await this.pins.stateOf(upstream.name, entry.tool.name, entry.digest)) !== 'approved') continue;
        out.push(
          this.namespaced ? { ...entry.tool, name: this.exposedName(upstream, entry.tool.name) } : entry.tool,
        );
      }
    }
    return out;
  }

  exposedName(upstream: Upstream, tool: string): string {
    return this.namespaced ? `${upstream.name}${NAMESPACE_SEPARATOR}${tool}` : tool;
  }

  /** Runs one `tools/call` for `agent` through Warden; a refusal is a tool error result, never a throw. */
  async callTool(
    agent: string,
    name: string,
    args: Record<string, unknown> | undefined,
    context: CallContext = {},
  ): Promise<CallToolResult> {
    const target = this.resolve(name);
    if (!target) {
      const names = this.upstreams.map((u) => u.name).join(', ');
      return this.refuse(
        agent,
        name,
        'mcp.unknown-tool',
        this.namespaced
          ? `no tool \`${name}\`: aggregated tools are named \`<server>${NAMESPACE_SEPARATOR}<tool>\` (servers: ${names})`
          : `no tool \`${name}\` on this server`,
      );
    }
    const { upstream, tool } = target;
    try {
      await upstream.connect(); // already connected: a settled promise
    } catch (error) {
      return this.refuse(agent, name, 'mcp.upstream-unavailable', (error as Error).message);
    }
    let known = upstream.tool(tool);
    if (!known) {
      await upstream.refresh().catch(() => undefined);
      known = upstream.tool(tool);
      if (!known)
        return this.refuse(
          agent,
          name,
          'mcp.unknown-tool',
          `server \`${upstream.name}\` has no tool \`${tool}\``,
        );
    }
    const state = this.pins.isApproved(upstream.name, tool, known.digest)
      ? 'approved'
      : await this.pins.stateOf(upstream.name, tool, known.digest);
    if (state !== 'approved')
      return this.refuse(agent, name, ...pinRefusal(upstream.name, tool, state, known.digest));

    const argsObject = args ?? {};
    const actions = actionsFor(upstream.name, tool, argsObject, upstream.mappings);
    const input = (a: MappedAction) => ({
      agent,
      type: a.type,
      params: a.params,
      description: `MCP tool \`${tool}\` of server \`${upstream.name}\``,
      ...(context.session ? { session: context.session } : {}),
    });

    // A call that stands for several actions (a move, several files): each must pass; the one
    // that asks (if any) is run, so its approval covers the call. Every action gets its own
    // durable decision record: the others through decide(), settled once the call is over.
    let primary = actions[0] as MappedAction;
    const others: string[] = [];
    if (actions.length > 1) {
      const decisions = await Promise.all(actions.map((a) => this.warden.check(input(a))));
      const denied = decisions.findIndex((d) => d.effect === 'deny');
      if (denied >= 0) {
        const recorded = await this.warden.decide(input(actions[denied] as MappedAction));
        if (recorded.action) await this.warden.settle(recorded.action.id, { completed: false });
        const reason = recorded.decision.reasons[0] ?? (decisions[denied] as Decision).reasons[0];
        return refusal(reason as Reason, recorded.decision);
      }
      const asks = decisions.flatMap((d, i) => (d.effect === 'ask' ? [i] : []));
      if (asks.length > 1) {
        return this.refuse(
          agent,
          name,
          'mcp.several-approvals',
          `this call needs ${asks.length} separate approvals (one per path); call the tool once per path`,
        );
      }
      const primaryIndex = asks[0] ?? 0;
      primary = actions[primaryIndex] as MappedAction;
      for (const [i, other] of actions.entries()) {
        if (i === primaryIndex) continue;
        const recorded = await this.warden.decide(input(other));
        if (recorded.action) others.push(recorded.action.id);
        if (recorded.decision.effect !== 'allow') {
          // Changed since the check (a kill, a limit): nothing runs.
          await this.settleAll(others, false);
          return refusal(
            recorded.decision.reasons[0] ?? {
              code: 'approval.error',
              stage: 'approval',
              message: 'not allowed',
            },
            recorded.decision,
          );
        }
      }
    }

    let result: RunResult<CallToolResult> | undefined;
    try {
      result = await this.warden.run<CallToolResult>(
        input(primary),
        (_action, execution) =>
          upstream.callTool(
            { name: tool, arguments: argsObject },
            execution.onStop ?? execution.signal,
            // A namespaced name differs upstream: that request is re-encoded.
            tool === name ? context.request : undefined,
            context.onProgress,
          ),
        {
          ...(context.signal ? { signal: context.signal } : {}),
          // The answer goes back once the decision is durable and the upstream has answered;
          // the result record rides the next group commit (a crash loses only that record).
          resultRecord: 'next-commit',
          ...(context.onApprovalRequested ? { onApprovalRequested: context.onApprovalRequested } : {}),
        },
      );
    } finally {
      if (others.length > 0) await this.settleAll(others, result?.status === 'completed');
    }
    if (result.status === 'completed') {
      const output = result.output as CallToolResult;
      // Output review (`secrets.toolResults`), as the adapters do: the model reads the reviewed
      // result (the same object when there was nothing to redact, so it goes back as it came).
      const reviewed = reviewOutput(this.warden, output, { toolResult: true });
      if ('refused' in reviewed) return refusal(reviewed.refused, result.decision);
      if (!context.session) return reviewed.output;
      // Warden learns the result as the tool returned it, so provenance knows every value in it.
      const learnt = await this.observeResult(
        agent,
        context.session,
        `mcp:${upstream.name}/${tool}`,
        output,
        context.ownSession === true,
      );
      return learnt ? refusal(learnt, result.decision) : reviewed.output;
    }
    return refusal(
      result.reason ?? { code: 'execute.failed', stage: 'execute', message: 'the call did not complete' },
      result.decision,
    );
  }

  /**
   * Tells Warden what the tool returned (SPEC §2b): later calls of the session are judged by it.
   * Returns the reason to withhold the result when it could not be learnt (fail closed).
   */
  private async observeResult(
    agent: string,
    session: string,
    source: string,
    output: CallToolResult,
    ownSession: boolean,
  ): Promise<Reason | undefined> {
    try {
      await this.warden.observe(
        { agent, session, source, content: resultContent(output) },
        // Learnt before the answer either way; stored before it where another run may read it.
        ownSession ? { durable: 'next-commit' } : {},
      );
      return undefined;
    } catch (error) {
      return {
        code: 'taint.observe-failed',
        stage: 'execute',
        message: `the result of \`${source}\` could not be recorded as read (${(error as Error).message}); it is withheld`,
      };
    }
  }

  /** Settles the limit holds of actions decided alongside a call's primary action. */
  private async settleAll(ids: readonly string[], completed: boolean): Promise<void> {
    await Promise.allSettled(ids.map((id) => this.warden.settle(id, { completed })));
  }

  /**
   * An SDK `Server` speaking for `agent`: `tools/list` and `tools/call` through this gateway.
   * `elicitation`: when the policy names `mcp.elicitation` and the client supports elicitation, a
   * call waiting for approval also asks the client's user (needs a connection that carries
   * server-to-client requests: stdio, not the stateless HTTP endpoint).
   */
  serverFor(agent: string, options: ServeOptions = {}): Server {
    const server = new Server(
      { name: 'warden-mcp-gateway', version: '0.1.0' },
      { capabilities: { tools: { listChanged: true } }, jsonSchemaValidator: lazyValidator() },
    );
    server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools: await this.listTools(agent) }));
    server.setRequestHandler(CallToolRequestSchema, (request, extra) =>
      this.serveCall(server, agent, request.params, extra, options),
    );
    return server;
  }

  /**
   * Answers one `tools/call` of `server`'s client: through {@link callTool}, telling the client
   * with progress notifications while a human decides, and asking through elicitation where
   * `options.elicitation` allows it. Shared by the SDK's request handler and the direct path of
   * {@link serveToolCallsDirectly}.
   */
  serveCall(
    server: Server,
    agent: string,
    params: CallToolRequest['params'],
    extra: CallExtra,
    options: ServeOptions = {},
  ): Promise<CallToolResult> {
    const progressToken = params._meta?.progressToken;
    let keepAlive: NodeJS.Timeout | undefined;
    // One sender for Warden's own progress (waiting for approval) and the server's: MCP wants a
    // token's progress to increase, so a value not above the last one sent is left out.
    let sent = Number.NEGATIVE_INFINITY;
    const progress = ({ progress: n, total, message }: Omit<UpstreamProgress, 'progressToken'>) => {
      if (progressToken === undefined || !(n > sent)) return;
      sent = n;
      void extra
        .sendNotification({
          method: 'notifications/progress',
          params: {
            progressToken,
            progress: n,
            ...(total === undefined ? {} : { total }),
            ...(message === undefined ? {} : { message }),
          },
        })
        .catch(() => undefined);
    };
    return this.callTool(agent, params.name, params.arguments, {
      signal: extra.signal,
      ...(extra.requestLine === undefined
        ? {}
        : { request: { line: extra.requestLine, id: extra.requestId } }),
      ...(options.session ? { session: options.session } : {}),
      ...(options.ownSession ? { ownSession: true } : {}),
      // The server's progress goes on to the client under the client's own token.
      ...(progressToken === undefined ? {} : { onProgress: progress }),
      onApprovalRequested: (approval) => {
        const elicit = this.warden.policy.config.mcp.elicitation;
        if (options.elicitation && elicit && server.getClientCapabilities()?.elicitation) {
          void this.askThroughElicitation(server, approval, elicit, extra.requestId, extra.signal);
        }
        // Tell the client (and keep its request timeout from firing) while a human decides.
        let n = 0;
        const message = `waiting for approval ${approval.id}`;
        progress({ progress: n, message });
        keepAlive = setInterval(() => progress({ progress: ++n, message }), 10_000);
        keepAlive.unref();
      },
    }).finally(() => {
      if (keepAlive) clearInterval(keepAlive);
    });
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.upstreams.map((u) => u.close()));
  }

  /**
   * Asks the MCP client's user to approve a waiting call (MCP elicitation) and casts their answer
   * as a vote: accept with `approve: true` approves, `approve: false` or decline denies, cancel
   * leaves the request pending for other approvers. Failures leave it pending too.
   */
  private async askThroughElicitation(
    server: Server,
    approval: ApprovalRecord,
    as: { approver: string; role: 'approver' | 'admin' },
    relatedRequestId: string | number,
    signal: AbortSignal,
  ): Promise<void> {
    const { action } = approval;
    const why = approval.decision.reasons.map((r) => r.message).join('; ');
    try {
      const answer = await server.elicitInput(
        {
          mode: 'form',
          message: `Warden: agent \`${action.agent}\` wants to run ${action.description ?? action.type} (${action.type}, risk ${approval.decision.risk}) with ${JSON.stringify(action.params)}. ${why}. Approve it?`,
          requestedSchema: {
            type: 'object',
            properties: {
              approve: {
                type: 'boolean',
                title: 'Approve this call',
                description: `approval ${approval.id}`,
              },
            },
            required: ['approve'],
          },
        },
        { relatedRequestId, signal, timeout: Math.max(1, Date.parse(approval.expiresAt) - Date.now()) },
      );
      if (answer.action === 'cancel') return;
      const approve = answer.action === 'accept' && answer.content?.approve === true;
      await this.warden.approvals.vote({
        id: approval.id,
        approver: as.approver,
        role: as.role,
        vote: approve ? 'approve' : 'deny',
        channel: 'mcp-elicitation',
        digest: approval.digest,
      });
    } catch (error) {
      if (!signal.aborted) process.emitWarning(`asking through MCP elicitation failed: ${String(error)}`);
    }
  }

  private resolve(name: string): { upstream: Upstream; tool: string } | undefined {
    if (!this.namespaced) {
      const upstream = this.upstreams[0];
      return upstream ? { upstream, tool: name } : undefined;
    }
    for (const upstream of this.upstreams) {
      const prefix = `${upstream.name}${NAMESPACE_SEPARATOR}`;
      if (name.startsWith(prefix) && name.length > prefix.length)
        return { upstream, tool: name.slice(prefix.length) };
    }
    return undefined;
  }

  /** A refusal made by the gateway itself (before the pipeline), recorded in the audit log. */
  private async refuse(agent: string, tool: string, code: string, message: string): Promise<CallToolResult> {
    const reason: Reason = { code, stage: 'gateway', message };
    try {
      await this.warden.audit.append({ type: 'mcp.refused', agent, data: { tool, code, message } });
    } catch {
      // The call is refused either way.
    }
    return refusal(reason);
  }
}

function pinRefusal(server: string, tool: string, state: PinState, digest: string): [string, string] {
  if (state === 'changed') {
    return [
      'mcp.tool-changed',
      `the definition of tool \`${tool}\` of server \`${server}\` changed since it was approved (now ${digest.slice(0, 12)}…); an admin must review and approve it (\`warden mcp pins approve ${server} ${tool}\`)`,
    ];
  }
  return [
    'mcp.tool-unapproved',
    `tool \`${tool}\` of server \`${server}\` is new and waits for an admin's approval (\`warden mcp pins approve ${server} ${tool}\`)`,
  ];
}

/** The text a model reads from a tool result: its text and resource parts, and its structured content. */
function resultContent(output: CallToolResult): string {
  const parts: string[] = [];
  for (const item of output.content ?? []) {
    if (item.type === 'text') parts.push(item.text);
    else if (item.type === 'resource' && 'text' in item.resource) parts.push(String(item.resource.text));
  }
  if (output.structuredContent !== undefined) parts.push(JSON.stringify(output.structuredContent));
  return parts.join('\n').slice(0, 4_000_000);
}
