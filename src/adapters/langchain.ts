import { interrupt } from '@langchain/langgraph';
import { createMiddleware, ToolMessage } from 'langchain';
import type { Reason } from '../contract/decision.js';
import { type AdapterOptions, actionOf, refusalText, runTool } from './core.js';

export type { AdapterOptions, FrameworkApprover, ToolAction } from './core.js';
export { reviewOutput } from './core.js';

/** What the interrupt carries to the human, and what the app resumes it with. */
export interface WardenInterrupt {
  type: 'warden.approval';
  tool: string;
  toolCallId: string | undefined;
  action: { type: string; params: Record<string, unknown> };
  risk: string;
  reasons: Reason[];
}
export interface WardenResume {
  approved: boolean;
  comment?: string;
}

/**
 * A LangChain.js v1 agent middleware (`warden/langchain`) that runs every tool call through
 * Warden. A denied call becomes an error `ToolMessage` with the reason, which the model reads; an
 * `ask` raises a LangGraph interrupt (`{ type: 'warden.approval', … }`, the human-in-the-loop way:
 * the agent needs a checkpointer) and the call runs once the app resumes it with
 * `new Command({ resume: { approved: true } })`, casting `options.approver`'s vote in Warden.
 *
 * @example
 * const agent = createAgent({ model, tools, middleware: [wardenMiddleware({ warden, agent: 'ops', approver })], checkpointer: new MemorySaver() });
 */
export function wardenMiddleware(options: AdapterOptions) {
  return createMiddleware({
    name: 'WardenMiddleware',
    wrapToolCall: async (request, handler) => {
      const { toolCall } = request;
      const id = toolCall.id ?? '';
      const refused = (reason: Reason | undefined) =>
        new ToolMessage({
          content: refusalText(reason),
          tool_call_id: id,
          name: toolCall.name,
          status: 'error',
        });
      const action = actionOf(options, toolCall.name, toolCall.args);
      const decision = await options.warden.check(action);
      let approvedInFramework = false;
      if (decision.effect === 'ask') {
        const response = interrupt<WardenInterrupt, WardenResume | undefined>({
          type: 'warden.approval',
          tool: toolCall.name,
          toolCallId: toolCall.id,
          action: { type: action.type, params: action.params },
          risk: decision.risk,
          reasons: decision.reasons,
        });
        if (!response?.approved) {
          return refused({
            code: 'approval.denied',
            stage: 'approval',
            message: `a human declined this call${response?.comment ? `: ${response.comment}` : ''}`,
          });
        }
        approvedInFramework = true;
      }
      const result = await runTool(options, toolCall.name, toolCall.args, () => handler(request), {
        approvedInFramework,
        channel: 'langchain',
      });
      return result.status === 'completed' && result.output ? result.output : refused(result.reason);
    },
  });
}
