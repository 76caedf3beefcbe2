import type { Tool, ToolExecutionOptions, ToolSet } from 'ai';
import { type AdapterOptions, needsApproval, runTool, WardenRefusal } from './core.js';

export type { AdapterOptions, FrameworkApprover, ToolAction } from './core.js';
export { reviewOutput, WardenRefusal } from './core.js';

/**
 * Wraps a Vercel AI SDK tool set so every call goes through Warden (`warden/ai`).
 *
 * - `needsApproval` is true when Warden's decision is `ask` (or the tool's own says so), so the
 *   SDK's tool-approval flow pauses the loop with a `tool-approval-request`.
 * - `execute` runs the call through `warden.run()` with the tool's own execute as the executor. A
 *   refusal throws a `WardenRefusal` whose message (code and reason) the SDK hands the model as the
 *   tool error. A call approved in the SDK's flow casts a vote as `options.approver`.
 *
 * @example
 * const tools = wardenTools({ weather, sendEmail }, { warden, agent: 'assistant', approver: { name: 'ui:alice', role: 'approver' } });
 * const result = await generateText({ model, tools, prompt, stopWhen: stepCountIs(5) });
 */
export function wardenTools<TOOLS extends ToolSet>(tools: TOOLS, options: AdapterOptions): TOOLS {
  const out: Record<string, Tool> = {};
  for (const [name, original] of Object.entries(tools) as [string, Tool][]) {
    const own = original.needsApproval;
    const execute = original.execute;
    out[name] = {
      ...original,
      needsApproval: async (
        input: unknown,
        approvalOptions: Parameters<NonNullable<Exclude<Tool['needsApproval'], boolean>>>[1],
      ) => {
        if (await needsApproval(options, name, input)) return true;
        if (typeof own === 'function') return own(input as never, approvalOptions);
        return own === true;
      },
      ...(execute
        ? {
            execute: async (input: unknown, callOptions: ToolExecutionOptions) => {
              // The SDK calls execute for a tool that needed approval only once a human approved it.
              const approvedInFramework = await needsApproval(options, name, input);
              const result = await runTool(
                options,
                name,
                input,
                async () => (await execute(input as never, callOptions)) as unknown,
                {
                  ...(callOptions.abortSignal ? { signal: callOptions.abortSignal } : {}),
                  approvedInFramework,
                  channel: 'ai-sdk',
                },
              );
              if (result.status === 'completed') return result.output;
              throw new WardenRefusal(result.reason);
            },
          }
        : {}),
    } as Tool;
  }
  return out as TOOLS;
}
