import {
  defineToolInputGuardrail,
  type FunctionTool,
  getAllMcpTools,
  type MCPServer,
  ToolGuardrailFunctionOutputFactory,
  type ToolInputGuardrailDefinition,
} from '@openai/agents';
import { type AdapterOptions, actionOf, needsApproval, refusalText, runTool } from './core.js';

// biome-ignore lint/suspicious/noExplicitAny: the SDK's own type for "any function tool"
type AnyFunctionTool = FunctionTool<any, any, any>;

export type { AdapterOptions, FrameworkApprover, ToolAction } from './core.js';
export { reviewOutput } from './core.js';

function parseArguments(text: string): unknown {
  try {
    return text.trim() === '' ? {} : (JSON.parse(text) as unknown);
  } catch {
    return { arguments: text };
  }
}

/**
 * A tool input guardrail backed by Warden: a call Warden denies is rejected before it runs (the
 * refusal recorded in the audit log), and the refusal (code and reason) is what the model reads as
 * the tool's output.
 */
export function wardenGuardrail(options: AdapterOptions): ToolInputGuardrailDefinition {
  return defineToolInputGuardrail({
    name: 'warden',
    run: async ({ toolCall }) => {
      const action = actionOf(options, toolCall.name, parseArguments(toolCall.arguments));
      const checked = await options.warden.check(action);
      if (checked.effect !== 'deny') return ToolGuardrailFunctionOutputFactory.allow({ decision: checked });
      // The call never reaches run(): record the refusal durably here.
      const { decision, action: decided } = await options.warden.decide(action);
      if (decided && decision.effect !== 'deny')
        await options.warden.settle(decided.id, { completed: false });
      const reason = decision.reasons[0] ?? checked.reasons[0];
      return ToolGuardrailFunctionOutputFactory.rejectContent(refusalText(reason), { decision });
    },
  });
}

/**
 * Puts an OpenAI Agents SDK function tool behind Warden (`warden/openai-agents`): the Warden
 * guardrail rejects what Warden denies; `needsApproval` is true when Warden asks, so the run stops
 * with an interruption until `state.approve(…)`; the call itself runs through `warden.run()` (a
 * decision and a result record), casting `options.approver`'s vote for a call approved in the run.
 *
 * @example
 * const agent = new Agent({ name: 'ops', tools: [withWarden(restartService, { warden, agent: 'ops' })] });
 */
export function withWarden<T extends AnyFunctionTool>(tool: T, options: AdapterOptions): T {
  return {
    ...tool,
    inputGuardrails: [...(tool.inputGuardrails ?? []), wardenGuardrail(options)],
    needsApproval: async (context, input, callId) =>
      (await needsApproval(options, tool.name, input)) || (await tool.needsApproval(context, input, callId)),
    invoke: async (context, input, details) => {
      const args = parseArguments(input);
      const approvedInFramework = await needsApproval(options, tool.name, args);
      const result = await runTool(options, tool.name, args, () => tool.invoke(context, input, details), {
        approvedInFramework,
        channel: 'openai-agents',
        ...(details?.signal ? { signal: details.signal } : {}),
      });
      return result.status === 'completed' ? result.output : refusalText(result.reason);
    },
  };
}

/**
 * The tools of MCP servers (connected `MCPServerStdio`, `MCPServerStreamableHttp`, …) as function
 * tools behind Warden: each call becomes `mcp.<server>.<tool>` (the gateway's naming) unless
 * `actionFor` says otherwise. Pass them as the agent's `tools` instead of its `mcpServers`.
 */
export async function wardenMcpTools(
  servers: MCPServer[],
  options: AdapterOptions,
): Promise<AnyFunctionTool[]> {
  const out: AnyFunctionTool[] = [];
  for (const server of servers) {
    const serverName = server.name.toLowerCase().replace(/[^a-z0-9_-]/g, '_');
    const tools = await getAllMcpTools([server]);
    for (const tool of tools) {
      if (tool.type !== 'function') continue;
      out.push(
        withWarden(tool, {
          actionFor: (name, input) => ({
            type: `mcp.${serverName}.${name.toLowerCase().replace(/[^a-z0-9_-]/g, '_')}`,
            params:
              input !== null && typeof input === 'object'
                ? { ...(input as Record<string, unknown>) }
                : { input },
          }),
          ...options,
        }),
      );
    }
  }
  return out;
}
