/**
 * A scripted agent that replays the guide's scenarios against a running server, over HTTP, as a
 * real agent would, so a newcomer watching the dashboard sees decisions and approvals arrive
 * within seconds: a research agent reading and then trying to delete, a path traversal, a
 * destructive query, a payment that waits for two approvers (and is paid once they approve), a
 * delete that waits for one, and a runaway loop that is stopped (by the policy's limits when it
 * has them, else by the demo operator's kill switch). The scripted part ends with a `done` line;
 * the agents waiting for approval keep long-polling until they are decided or the demo stops.
 */
interface Step {
  agent: string;
  say: string;
  action: Record<string, unknown>;
}

const STEPS: Step[] = [
  {
    agent: 'research-agent',
    say: 'reads a paper',
    action: { type: 'fs.read', params: { path: '/data/research/paper.txt' } },
  },
  {
    agent: 'research-agent',
    say: 'tries to delete it',
    action: { type: 'fs.delete', params: { path: '/data/research/paper.txt' } },
  },
  {
    agent: 'research-agent',
    say: 'tries a path traversal',
    action: { type: 'fs.read', params: { path: '/data/research/../../../etc/passwd' } },
  },
  {
    agent: 'research-agent',
    say: 'calls an allowed API',
    action: {
      type: 'http.request',
      params: { url: 'https://api.semanticscholar.org/graph/v1/paper/search?query=agents' },
    },
  },
  {
    agent: 'research-agent',
    say: 'calls a host outside its grant',
    action: { type: 'http.request', params: { url: 'http://169.254.169.254/latest/meta-data/' } },
  },
  {
    agent: 'coding-agent',
    say: 'runs a destructive query',
    action: { type: 'sql.query', params: { sql: 'SELECT * FROM users; DROP TABLE users;' } },
  },
  {
    agent: 'finance-agent',
    say: 'pays an invoice (needs two approvers)',
    action: {
      type: 'payment.send',
      params: { amount: 420, currency: 'USD', to: 'acme-supplies' },
      description: 'Invoice #1042 from ACME Supplies',
    },
  },
  {
    agent: 'admin-agent',
    say: 'deletes old logs (needs one approver)',
    action: {
      type: 'fs.delete',
      params: { path: '/var/log/app/2024-archive.tar.gz' },
      description: 'Free disk space: remove last year’s log archive',
    },
  },
];

/** How many iterations the runaway loop tries before the operator steps in. */
const LOOP = 25;

interface View {
  id?: string;
  status?: string;
  decision?: { effect: string; risk: string; reasons: Array<{ code: string; message: string }> };
  approvalId?: string;
  error?: { code: string; message: string };
}

export interface DemoTokens {
  /** Agent name → its agent token. */
  agents: ReadonlyMap<string, string>;
  /** An admin token for the demo operator who pulls the kill switch on the runaway loop. */
  operator?: string;
}

export function runDemoAgent(
  baseUrl: string,
  tokens: DemoTokens,
  log: (line: string) => void,
): () => Promise<void> {
  const controller = new AbortController();
  const { signal } = controller;
  let killedByDemo: string | undefined;
  const call = async (token: string, method: string, path: string, body?: unknown): Promise<View> => {
    const res = await fetch(`${baseUrl}${path}`, {
      method,
      signal,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return (await res.json()) as View;
  };
  const describe = (v: View) => {
    const first = v.decision?.reasons[0];
    return `${v.decision?.effect ?? v.error?.code ?? '?'} (${v.decision?.risk ?? '?'})${first ? ` — ${first.code}: ${first.message}` : ''}`;
  };

  /** Long-polls a pending action; executes (pretends to) and reports once it is allowed. */
  const awaitDecision = async (token: string, step: Step, view: View) => {
    while (!signal.aborted) {
      const now = await call(token, 'GET', `/v1/actions/${view.id}?wait=30s`);
      if (now.status === 'pending') continue;
      log(`${step.agent} ${step.say}: ${now.status} — ${now.decision?.reasons[0]?.message ?? ''}`);
      if (now.status === 'allowed') {
        await call(token, 'POST', `/v1/actions/${view.id}/result`, {
          status: 'completed',
          output: { demo: true },
        });
        log(`${step.agent} executed ${view.id} once and reported the result`);
      }
      return;
    }
  };

  const runawayLoop = async () => {
    const agent = 'research-agent';
    const token = tokens.agents.get(agent);
    if (!token) return;
    log(`${agent} enters a runaway loop: the same search, over and over`);
    for (let i = 1; i <= LOOP && !signal.aborted; i++) {
      const v = await call(token, 'POST', '/v1/actions', {
        agent,
        type: 'fs.list',
        params: { path: '/data/research' },
        session: 'demo-loop',
      });
      if (v.status === 'allowed') {
        await call(token, 'POST', `/v1/actions/${v.id}/result`, {
          status: 'completed',
          output: { entries: 3 },
        });
      } else {
        log(`${agent} loop iteration ${i}: ${describe(v)}`);
        return;
      }
      await sleep(80, signal);
    }
    if (!tokens.operator) return;
    log(`operator: ${agent} made ${LOOP} identical calls; pulling its kill switch`);
    await call(tokens.operator, 'POST', `/v1/agents/${agent}/kill`, { reason: 'runaway loop (demo)' });
    const after = await call(token, 'POST', '/v1/actions', {
      agent,
      type: 'fs.list',
      params: { path: '/data/research' },
    });
    log(`${agent} tries once more: ${describe(after)}`);
    killedByDemo = agent;
  };
  /** The demo leaves no agent stopped behind: the next `npm start` must find them running. */
  const reviveIfKilled = async (reason: string) => {
    if (!killedByDemo || !tokens.operator) return;
    const agent = killedByDemo;
    killedByDemo = undefined;
    await fetch(`${baseUrl}/v1/agents/${agent}/revive`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tokens.operator}`, 'content-type': 'application/json' },
      body: JSON.stringify({ reason }),
    });
    log(`operator: ${agent} revived`);
  };

  const run = async () => {
    await sleep(500, signal);
    const waiting: Promise<void>[] = [];
    for (const step of STEPS) {
      if (signal.aborted) return;
      const token = tokens.agents.get(step.agent);
      if (!token) continue;
      try {
        const view = await call(token, 'POST', '/v1/actions', { agent: step.agent, ...step.action });
        log(`${step.agent} ${step.say}: ${describe(view)}`);
        if (view.status === 'allowed') {
          await call(token, 'POST', `/v1/actions/${view.id}/result`, {
            status: 'completed',
            output: { demo: true },
          });
        }
        if (view.approvalId) {
          log(
            `  waiting for approval ${view.approvalId}: approve it in the dashboard, or \`warden approvals approve ${view.approvalId} --as alice\``,
          );
          waiting.push(awaitDecision(token, step, view).catch(() => undefined));
        }
      } catch (error) {
        if (signal.aborted) return;
        log(`${step.agent} ${step.say}: request failed (${String(error)})`);
      }
      await sleep(400, signal);
    }
    await runawayLoop().catch((error: unknown) => {
      if (!signal.aborted) log(`runaway loop: request failed (${String(error)})`);
    });
    log('done: watch the dashboard; see also `warden audit tail` and `warden approvals list`');
    await sleep(10_000, signal);
    if (!signal.aborted) await reviveIfKilled('demo: loop fixed');
    await Promise.all(waiting);
  };
  void run().catch(() => undefined);
  return async () => {
    controller.abort();
    await reviveIfKilled('demo stopped').catch(() => undefined);
  };
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
}
