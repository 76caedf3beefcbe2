// Vercel AI SDK + Warden, with the SDK's mock model (no network): `npx tsx examples/adapters/ai.ts`.
import { generateText, type ModelMessage, stepCountIs, tool } from 'ai';
import { MockLanguageModelV3 } from 'ai/test';
import { z } from 'zod';
import { wardenTools } from '../../src/adapters/ai.js';
import { testWarden } from '../../src/testing/index.js';

const warden = await testWarden({
  agents: { assistant: { allow: ['tool.send_money'] } },
  rules: [{ id: 'money-needs-a-human', effect: 'ask', match: { type: 'tool.send_money' } }],
});
const usage = {
  inputTokens: { total: 1, noCache: 1, cacheRead: undefined, cacheWrite: undefined },
  outputTokens: { total: 1, text: 1, reasoning: undefined },
};
// A scripted model: first it calls `send_money`, then it reports what the tool said.
const model = new MockLanguageModelV3({
  doGenerate: async ({ prompt }) =>
    prompt.at(-1)?.role === 'tool'
      ? {
          content: [{ type: 'text', text: `done: ${JSON.stringify(prompt.at(-1)?.content[0])}` }],
          finishReason: { unified: 'stop', raw: 'stop' },
          usage,
          warnings: [],
        }
      : {
          content: [
            {
              type: 'tool-call',
              toolCallId: 'c1',
              toolName: 'send_money',
              input: '{"amount":40,"to":"bob"}',
            },
          ],
          finishReason: { unified: 'tool-calls', raw: 'tool_calls' },
          usage,
          warnings: [],
        },
});

const tools = wardenTools(
  {
    send_money: tool({
      description: 'Sends money',
      inputSchema: z.object({ amount: z.number(), to: z.string() }),
      execute: async ({ amount, to }) => `sent ${amount} to ${to}`,
    }),
  },
  { warden, agent: 'assistant', approver: { name: 'ui:alice', role: 'approver' } },
);

const first = await generateText({ model, tools, prompt: 'pay bob 40', stopWhen: stepCountIs(3) });
const request = first.content.find((p) => p.type === 'tool-approval-request');
console.log(
  'Warden asked; the SDK paused for approval:',
  request?.toolCall.toolName,
  request?.toolCall.input,
);

// The app's user approves in its own UI; the approval is recorded in Warden as alice's vote.
const messages: ModelMessage[] = [
  { role: 'user', content: 'pay bob 40' },
  ...first.response.messages,
  {
    role: 'tool',
    content: [{ type: 'tool-approval-response', approvalId: request?.approvalId ?? '', approved: true }],
  },
];
const second = await generateText({ model, tools, messages, stopWhen: stepCountIs(3) });
console.log('model:', second.text);
console.log(
  'Warden approvals:',
  (await warden.approvals.list('approved')).map((a) => `${a.id} by ${a.votes[0]?.approver}`),
);
await warden.close();
