import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  Agent,
  type AgentInputItem,
  MCPServerStdio,
  type Model,
  type ModelRequest,
  type ModelResponse,
  run,
  setTracingDisabled,
  tool,
  Usage,
} from '@openai/agents';
import { z } from 'zod';
import { wardenMcpTools, withWarden } from '../../src/adapters/openai-agents.js';
import { testWarden } from '../../src/testing/index.js';
import { ROOT } from '../helpers/cli.js';

setTracingDisabled(true);

const POLICY = {
  agents: { assistant: { allow: ['tool.weather', 'tool.send_money'] } },
  rules: [{ id: 'money-needs-a-human', effect: 'ask' as const, match: { type: 'tool.send_money' } }],
};

/** A Model (the SDK's interface) that calls `toolName` once, then repeats what the tool returned. */
class ScriptedModel implements Model {
  readonly requests: ModelRequest[] = [];
  constructor(
    private readonly toolName: string,
    private readonly args: Record<string, unknown>,
  ) {}

  async getResponse(request: ModelRequest): Promise<ModelResponse> {
    this.requests.push(request);
    const items = (Array.isArray(request.input) ? request.input : []) as AgentInputItem[];
    const output = items.find((i) => i.type === 'function_call_result');
    if (output) {
      const text = JSON.stringify((output as { output: unknown }).output);
      return {
        usage: new Usage(),
        output: [
          {
            type: 'message',
            role: 'assistant',
            status: 'completed',
            content: [{ type: 'output_text', text: `the tool said: ${text}` }],
          },
        ],
      };
    }
    return {
      usage: new Usage(),
      output: [
        {
          type: 'function_call',
          callId: 'call-1',
          name: this.toolName,
          arguments: JSON.stringify(this.args),
          status: 'completed',
        },
      ],
    };
  }

  // biome-ignore lint/correctness/useYield: streaming is not used by these tests
  async *getStreamedResponse(): AsyncIterable<never> {
    throw new Error('not streamed in these tests');
  }
}

function tools(ran: string[], options: Parameters<typeof withWarden>[1]) {
  return [
    tool({
      name: 'weather',
      description: 'Weather in a city',
      parameters: z.object({ city: z.string() }),
      execute: async ({ city }) => {
        ran.push(`weather ${city}`);
        return `sunny in ${city}`;
      },
    }),
    tool({
      name: 'send_money',
      description: 'Sends money',
      parameters: z.object({ amount: z.number(), to: z.string() }),
      execute: async ({ amount, to }) => {
        ran.push(`send ${amount} ${to}`);
        return `sent ${amount} to ${to}`;
      },
    }),
    tool({
      name: 'delete_files',
      description: 'Deletes files',
      parameters: z.object({ glob: z.string() }),
      execute: async () => {
        ran.push('delete');
        return 'deleted';
      },
    }),
  ].map((t) => withWarden(t, options));
}

test('OpenAI Agents: an allowed tool runs in the agent loop', async () => {
  const warden = await testWarden(POLICY);
  const ran: string[] = [];
  const agent = new Agent({
    name: 'assistant',
    model: new ScriptedModel('weather', { city: 'Oslo' }),
    tools: tools(ran, { warden, agent: 'assistant' }),
  });
  const result = await run(agent, 'weather?');
  assert.deepEqual(ran, ['weather Oslo']);
  assert.match(String(result.finalOutput), /sunny in Oslo/);
  assert.equal((await warden.store.audit.query({ type: 'result' })).length, 1, 'the call is on record');
  await warden.close();
});

test('OpenAI Agents: a denied tool is rejected by the guardrail and its reason reaches the model', async () => {
  const warden = await testWarden(POLICY);
  const ran: string[] = [];
  const model = new ScriptedModel('delete_files', { glob: '**' });
  const agent = new Agent({ name: 'assistant', model, tools: tools(ran, { warden, agent: 'assistant' }) });
  const result = await run(agent, 'clean up');
  assert.deepEqual(ran, []);
  assert.match(JSON.stringify(model.requests[1]?.input), /Refused by Warden \(permissions\.not-granted\)/);
  assert.match(String(result.finalOutput), /permissions\.not-granted/);
  await warden.close();
});

test('OpenAI Agents: an ask interrupts the run, which resumes after approval', async () => {
  const warden = await testWarden(POLICY);
  const ran: string[] = [];
  const agent = new Agent({
    name: 'assistant',
    model: new ScriptedModel('send_money', { amount: 40, to: 'bob' }),
    tools: tools(ran, { warden, agent: 'assistant', approver: { name: 'ui:alice', role: 'approver' } }),
  });
  const first = await run(agent, 'pay bob');
  assert.equal(first.interruptions.length, 1, 'the run stopped for approval');
  assert.deepEqual(ran, []);
  first.state.approve(first.interruptions[0] as (typeof first.interruptions)[number]);
  const resumed = await run(agent, first.state);
  assert.deepEqual(ran, ['send 40 bob']);
  assert.match(String(resumed.finalOutput), /sent 40 to bob/);
  const [approval] = await warden.approvals.list('approved');
  assert.equal(approval?.votes[0]?.approver, 'ui:alice');
  await warden.close();
});

test('OpenAI Agents: MCP tools (a real stdio MCP server) go through Warden too', async () => {
  const warden = await testWarden({
    agents: { assistant: { allow: ['mcp.tiny.echo'] } },
  });
  const server = new MCPServerStdio({
    name: 'tiny',
    command: process.execPath,
    args: [join(ROOT, 'test/fixtures/mcp-tiny-server.mjs')],
  });
  await server.connect();
  try {
    const tools = await wardenMcpTools([server], { warden, agent: 'assistant' });
    const allowed = await run(
      new Agent({ name: 'assistant', model: new ScriptedModel('echo', { message: 'via mcp' }), tools }),
      'echo',
    );
    assert.match(String(allowed.finalOutput), /via mcp/);
    const model = new ScriptedModel('transfer', { amount: 1, to: 'eve' });
    const denied = await run(new Agent({ name: 'assistant', model, tools }), 'pay');
    assert.match(
      String(denied.finalOutput),
      /Refused by Warden \(permissions\.not-granted\).*mcp\.tiny\.transfer/,
    );
    await warden.audit.flush();
    const decisions = await warden.store.audit.query({ type: 'decision' });
    assert.equal(decisions.length, 2, 'the refusal is on record too');
  } finally {
    await server.close();
    await warden.close();
  }
});
