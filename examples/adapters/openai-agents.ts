// OpenAI Agents SDK + Warden, with a scripted Model (no network): `npx tsx examples/adapters/openai-agents.ts`.
import {
  Agent,
  type AgentInputItem,
  type Model,
  type ModelRequest,
  type ModelResponse,
  run,
  setTracingDisabled,
  tool,
  Usage,
} from '@openai/agents';
import { z } from 'zod';
import { withWarden } from '../../src/adapters/openai-agents.js';
import { testWarden } from '../../src/testing/index.js';

setTracingDisabled(true);
const warden = await testWarden({
  agents: { ops: { allow: ['tool.restart_service'] } },
  rules: [
    {
      id: 'prod-needs-a-human',
      effect: 'ask',
      match: { type: 'tool.restart_service', params: { env: 'prod' } },
    },
  ],
});

/** Calls `restart_service` once, then repeats what the tool returned. */
class ScriptedModel implements Model {
  async getResponse(request: ModelRequest): Promise<ModelResponse> {
    const items = (Array.isArray(request.input) ? request.input : []) as AgentInputItem[];
    const result = items.find((i) => i.type === 'function_call_result') as { output: unknown } | undefined;
    return {
      usage: new Usage(),
      output: result
        ? [
            {
              type: 'message',
              role: 'assistant',
              status: 'completed',
              content: [{ type: 'output_text', text: `done: ${JSON.stringify(result.output)}` }],
            },
          ]
        : [
            {
              type: 'function_call',
              callId: 'c1',
              name: 'restart_service',
              arguments: '{"service":"api","env":"prod"}',
              status: 'completed',
            },
          ],
    };
  }
  // biome-ignore lint/correctness/useYield: not streamed in this example
  async *getStreamedResponse(): AsyncIterable<never> {
    throw new Error('not streamed');
  }
}

const restart = tool({
  name: 'restart_service',
  description: 'Restarts a service',
  parameters: z.object({ service: z.string(), env: z.string() }),
  execute: async ({ service, env }) => `restarted ${service} in ${env}`,
});
const agent = new Agent({
  name: 'ops',
  model: new ScriptedModel(),
  tools: [withWarden(restart, { warden, agent: 'ops', approver: { name: 'ui:alice', role: 'approver' } })],
});

const first = await run(agent, 'restart the api in prod');
console.log(
  'Warden asked; the run is interrupted:',
  first.interruptions.map((i) => i.name),
);
for (const interruption of first.interruptions) first.state.approve(interruption);
const resumed = await run(agent, first.state);
console.log('agent:', resumed.finalOutput);
await warden.close();
