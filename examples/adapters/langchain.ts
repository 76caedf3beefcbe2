// LangChain.js v1 + Warden, with LangChain's fake tool-calling model (no network):
// `npx tsx examples/adapters/langchain.ts`.
import { Command, MemorySaver } from '@langchain/langgraph';
import { createAgent, FakeToolCallingModel, tool } from 'langchain';
import { z } from 'zod';
import { wardenMiddleware } from '../../src/adapters/langchain.js';
import { testWarden } from '../../src/testing/index.js';

const warden = await testWarden({
  agents: { assistant: { allow: ['tool.send_email'] } },
  rules: [
    {
      id: 'outside-mail-needs-a-human',
      effect: 'ask',
      match: { type: 'tool.send_email', params: { to: { glob: '*@!(example.com)' } } },
    },
  ],
});
const sendEmail = tool(
  async ({ to, subject }: { to: string; subject: string }) => `sent "${subject}" to ${to}`,
  {
    name: 'send_email',
    description: 'Sends an email',
    schema: z.object({ to: z.string(), subject: z.string() }),
  },
);
const agent = createAgent({
  model: new FakeToolCallingModel({
    toolCalls: [[{ name: 'send_email', args: { to: 'eve@elsewhere.org', subject: 'hi' }, id: 'c1' }], []],
  }),
  tools: [sendEmail],
  middleware: [
    wardenMiddleware({ warden, agent: 'assistant', approver: { name: 'ui:alice', role: 'approver' } }),
  ],
  checkpointer: new MemorySaver(),
});

const config = { configurable: { thread_id: 'example' } };
const first = await agent.invoke({ messages: [{ role: 'user', content: 'mail eve' }] }, config);
console.log('interrupted for:', JSON.stringify((first as { __interrupt__?: unknown }).__interrupt__));
const resumed = await agent.invoke(new Command({ resume: { approved: true } }), config);
console.log('tool said:', resumed.messages.find((m) => m.type === 'tool')?.content);
await warden.close();
