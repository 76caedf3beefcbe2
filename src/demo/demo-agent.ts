/**
 * A scripted agent that replays the guide's scenarios against a running server, over HTTP, as a
 * real agent would: a research agent reading and then trying to delete, a path traversal, an
 * admin-only action, a payment that waits for two approvers. It stops by itself.
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
];

export function runDemoAgent(
  baseUrl: string,
  tokens: ReadonlyMap<string, string>,
  log: (line: string) => void,
): () => void {
  let stopped = false;
  const run = async () => {
    await sleep(500);
    for (const step of STEPS) {
      if (stopped) return;
      const token = tokens.get(step.agent);
      if (!token) continue;
      try {
        const res = await fetch(`${baseUrl}/v1/actions`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ agent: step.agent, ...step.action }),
        });
        const body = (await res.json()) as {
          id?: string;
          status?: string;
          decision?: { effect: string; risk: string; reasons: Array<{ code: string; message: string }> };
          approvalId?: string;
        };
        const first = body.decision?.reasons[0];
        log(
          `${step.agent} ${step.say}: ${body.decision?.effect ?? res.status} (${body.decision?.risk ?? '?'})${first ? ` — ${first.code}: ${first.message}` : ''}`,
        );
        if (body.status === 'allowed') {
          await fetch(`${baseUrl}/v1/actions/${body.id}/result`, {
            method: 'POST',
            headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
            body: JSON.stringify({ status: 'completed', output: { demo: true } }),
          });
        }
        if (body.approvalId)
          log(
            `  waiting for approval ${body.approvalId}: warden approvals approve ${body.approvalId} --as alice`,
          );
      } catch (error) {
        log(`${step.agent} ${step.say}: request failed (${String(error)})`);
      }
      await sleep(400);
    }
    log('done: see `warden audit tail` and `warden approvals list`');
  };
  void run();
  return () => {
    stopped = true;
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
