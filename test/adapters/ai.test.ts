import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { LanguageModelV3CallOptions, LanguageModelV3GenerateResult } from '@ai-sdk/provider';
import { generateText, type ModelMessage, stepCountIs, tool } from 'ai';
import { MockLanguageModelV3 } from 'ai/test';
import { z } from 'zod';
import { wardenTools } from '../../src/adapters/ai.js';
import { testWarden } from '../../src/testing/index.js';

const POLICY = {
  agents: { assistant: { allow: ['tool.weather', 'tool.send_money'] } },
  rules: [{ id: 'money-needs-a-human', effect: 'ask' as const, match: { type: 'tool.send_money' } }],
};
const usage = {
  inputTokens: { total: 1, noCache: 1, cacheRead: undefined, cacheWrite: undefined },
  outputTokens: { total: 1, text: 1, reasoning: undefined },
};

/** A model that calls `toolName` once, then answers with what the tool result said. */
function modelCalling(toolName: string, input: Record<string, unknown>) {
  const prompts: LanguageModelV3CallOptions['prompt'][] = [];
  const model = new MockLanguageModelV3({
    doGenerate: async (options): Promise<LanguageModelV3GenerateResult> => {
      prompts.push(options.prompt);
      const last = options.prompt.at(-1);
      if (last?.role === 'tool') {
        return {
          content: [{ type: 'text', text: `the tool said: ${JSON.stringify(last.content[0])}` }],
          finishReason: { unified: 'stop', raw: 'stop' },
          usage,
          warnings: [],
        };
      }
      return {
        content: [{ type: 'tool-call', toolCallId: 'call-1', toolName, input: JSON.stringify(input) }],
        finishReason: { unified: 'tool-calls', raw: 'tool_calls' },
        usage,
        warnings: [],
      };
    },
  });
  return { model, prompts };
}

function toolsWith(ran: string[]) {
  return {
    weather: tool({
      description: 'Weather in a city',
      inputSchema: z.object({ city: z.string() }),
      execute: async ({ city }) => {
        ran.push(`weather ${city}`);
        return { city, forecast: 'sunny' };
      },
    }),
    send_money: tool({
      description: 'Sends money',
      inputSchema: z.object({ amount: z.number(), to: z.string() }),
      execute: async ({ amount, to }) => {
        ran.push(`send ${amount} ${to}`);
        return `sent ${amount} to ${to}`;
      },
    }),
    delete_files: tool({
      description: 'Deletes files',
      inputSchema: z.object({ glob: z.string() }),
      execute: async () => {
        ran.push('delete');
        return 'deleted';
      },
    }),
  };
}

test('AI SDK: an allowed tool runs inside the agent loop', async () => {
  const warden = await testWarden(POLICY);
  const ran: string[] = [];
  const { model } = modelCalling('weather', { city: 'Oslo' });
  const result = await generateText({
    model,
    tools: wardenTools(toolsWith(ran), { warden, agent: 'assistant' }),
    prompt: 'weather?',
    stopWhen: stepCountIs(3),
  });
  assert.deepEqual(ran, ['weather Oslo']);
  assert.match(result.text, /sunny/);
  await warden.close();
});

test('AI SDK: a denied tool does not run and its reason reaches the model as the tool result', async () => {
  const warden = await testWarden(POLICY);
  const ran: string[] = [];
  const { model, prompts } = modelCalling('delete_files', { glob: '**' });
  const result = await generateText({
    model,
    tools: wardenTools(toolsWith(ran), { warden, agent: 'assistant' }),
    prompt: 'clean up',
    stopWhen: stepCountIs(3),
  });
  assert.deepEqual(ran, []);
  const toolMessage = JSON.stringify(prompts[1]?.at(-1));
  assert.match(toolMessage, /Refused by Warden \(permissions\.not-granted\)/);
  assert.match(result.text, /permissions\.not-granted/);
  await warden.close();
});

test('AI SDK: an ask pauses the loop with a tool-approval-request and resumes once approved', async () => {
  const warden = await testWarden(POLICY);
  const ran: string[] = [];
  const { model } = modelCalling('send_money', { amount: 40, to: 'bob' });
  const tools = wardenTools(toolsWith(ran), {
    warden,
    agent: 'assistant',
    approver: { name: 'ui:alice', role: 'approver' },
  });
  const first = await generateText({ model, tools, prompt: 'pay bob', stopWhen: stepCountIs(3) });
  const request = first.content.find((p) => p.type === 'tool-approval-request');
  assert.ok(request, 'the loop paused for approval');
  assert.deepEqual(ran, [], 'nothing ran before approval');

  const messages: ModelMessage[] = [
    { role: 'user', content: 'pay bob' },
    ...first.response.messages,
    {
      role: 'tool',
      content: [{ type: 'tool-approval-response', approvalId: request.approvalId, approved: true }],
    },
  ];
  const second = await generateText({ model, tools, messages, stopWhen: stepCountIs(3) });
  assert.deepEqual(ran, ['send 40 bob']);
  assert.match(second.text, /sent 40 to bob/);
  const [approval] = await warden.approvals.list('approved');
  assert.equal(approval?.votes[0]?.approver, 'ui:alice', 'the approval is recorded in Warden');
  assert.equal(approval?.votes[0]?.channel, 'ai-sdk');
  await warden.close();
});
