import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Command, MemorySaver } from '@langchain/langgraph';
import { type BaseMessage, createAgent, FakeToolCallingModel, tool } from 'langchain';
import { z } from 'zod';
import { wardenMiddleware } from '../../src/adapters/langchain.js';
import { testWarden } from '../../src/testing/index.js';

const POLICY = {
  agents: { assistant: { allow: ['tool.weather', 'tool.send_money'] } },
  rules: [{ id: 'money-needs-a-human', effect: 'ask' as const, match: { type: 'tool.send_money' } }],
};

function tools(ran: string[]) {
  return [
    tool(
      async ({ city }: { city: string }) => {
        ran.push(`weather ${city}`);
        return `sunny in ${city}`;
      },
      { name: 'weather', description: 'Weather in a city', schema: z.object({ city: z.string() }) },
    ),
    tool(
      async ({ amount, to }: { amount: number; to: string }) => {
        ran.push(`send ${amount} ${to}`);
        return `sent ${amount} to ${to}`;
      },
      {
        name: 'send_money',
        description: 'Sends money',
        schema: z.object({ amount: z.number(), to: z.string() }),
      },
    ),
    tool(
      async () => {
        ran.push('delete');
        return 'deleted';
      },
      { name: 'delete_files', description: 'Deletes files', schema: z.object({ glob: z.string() }) },
    ),
  ];
}

/** A fake model that calls one tool, then (seeing the tool's message) stops. */
function modelCalling(name: string, args: Record<string, unknown>) {
  return { model: new FakeToolCallingModel({ toolCalls: [[{ name, args, id: 'call-1' }], []] }) };
}

const toolMessage = (messages: BaseMessage[]) => messages.find((m) => m.type === 'tool');

test('LangChain: an allowed tool runs through the middleware', async () => {
  const warden = await testWarden(POLICY);
  const ran: string[] = [];
  const { model } = modelCalling('weather', { city: 'Oslo' });
  const agent = createAgent({
    model,
    tools: tools(ran),
    middleware: [wardenMiddleware({ warden, agent: 'assistant' })],
  });
  const result = await agent.invoke({ messages: [{ role: 'user', content: 'weather?' }] });
  assert.deepEqual(ran, ['weather Oslo']);
  assert.equal(toolMessage(result.messages)?.content, 'sunny in Oslo');
  await warden.close();
});

test('LangChain: a denied tool does not run and the model reads the reason as the tool result', async () => {
  const warden = await testWarden(POLICY);
  const ran: string[] = [];
  const { model } = modelCalling('delete_files', { glob: '**' });
  const agent = createAgent({
    model,
    tools: tools(ran),
    middleware: [wardenMiddleware({ warden, agent: 'assistant' })],
  });
  const result = await agent.invoke({ messages: [{ role: 'user', content: 'clean up' }] });
  assert.deepEqual(ran, []);
  const at = result.messages.findIndex((m) => m.type === 'tool');
  assert.match(String(result.messages[at]?.content), /Refused by Warden \(permissions\.not-granted\)/);
  assert.equal(
    result.messages[at + 1]?.type,
    'ai',
    'the model was called again with the refusal in its messages',
  );
  await warden.close();
});

test('LangChain: an ask interrupts the agent (human in the loop) and resumes after approval', async () => {
  const warden = await testWarden(POLICY);
  const ran: string[] = [];
  const { model } = modelCalling('send_money', { amount: 40, to: 'bob' });
  const agent = createAgent({
    model,
    tools: tools(ran),
    middleware: [
      wardenMiddleware({ warden, agent: 'assistant', approver: { name: 'ui:alice', role: 'approver' } }),
    ],
    checkpointer: new MemorySaver(),
  });
  const config = { configurable: { thread_id: 'pay-bob' } };
  const first = await agent.invoke({ messages: [{ role: 'user', content: 'pay bob' }] }, config);
  const interrupts = (
    first as { __interrupt__?: Array<{ value: { type: string; action: { type: string } } }> }
  ).__interrupt__;
  assert.equal(interrupts?.[0]?.value.type, 'warden.approval');
  assert.equal(interrupts?.[0]?.value.action.type, 'tool.send_money');
  assert.deepEqual(ran, [], 'paused before running');

  const resumed = await agent.invoke(new Command({ resume: { approved: true } }), config);
  assert.deepEqual(ran, ['send 40 bob']);
  assert.equal(toolMessage(resumed.messages)?.content, 'sent 40 to bob');
  const [approval] = await warden.approvals.list('approved');
  assert.equal(approval?.votes[0]?.approver, 'ui:alice');
  await warden.close();
});
