import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { runCli, tempDir } from '../helpers/cli.js';

const tmp = tempDir();
after(tmp.remove);
const POLICY = 'examples/research-agent.yaml';

describe('warden eval (SPEC §5 contract)', () => {
  test('1,000 actions in, 1,000 decisions out, in order', async () => {
    const lines: string[] = [];
    const expected: string[] = [];
    for (let i = 0; i < 1000; i++) {
      const kind = i % 4;
      const action =
        kind === 0
          ? {
              id: `a${i}`,
              agent: 'research-agent',
              type: 'fs.read',
              params: { path: `/data/research/${i}.txt` },
            }
          : kind === 1
            ? {
                id: `a${i}`,
                agent: 'research-agent',
                type: 'fs.delete',
                params: { path: `/data/research/${i}.txt` },
              }
            : kind === 2
              ? {
                  id: `a${i}`,
                  agent: 'research-agent',
                  type: 'http.request',
                  params: { url: `https://en.wikipedia.org/wiki/${i}` },
                }
              : { id: `a${i}`, agent: 'research-agent', type: 'fs.read', params: { path: `/etc/${i}` } };
      lines.push(JSON.stringify(action));
      expected.push(kind === 0 || kind === 2 ? 'allow' : 'deny');
    }
    const input = join(tmp.dir, 'actions.jsonl');
    writeFileSync(input, `${lines.join('\n')}\n`);
    const r = await runCli(['eval', '--policy', POLICY, '--input', input]);
    assert.equal(r.code, 0, r.stderr);
    const out = r.stdout
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as { id: string; effect: string; reasons: unknown[] });
    assert.equal(out.length, 1000);
    assert.deepEqual(
      out.map((d) => d.id),
      lines.map((_, i) => `a${i}`),
    );
    assert.deepEqual(
      out.map((d) => d.effect),
      expected,
    );
    assert.ok(out.filter((d) => d.effect === 'deny').every((d) => d.reasons.length > 0));
  });

  test('reads stdin by default', async () => {
    const r = await runCli(['eval', '--policy', POLICY], {
      input: '{"agent":"research-agent","type":"fs.delete","params":{"path":"/data/research/a"}}\n',
    });
    assert.equal(r.code, 0, r.stderr);
    assert.equal((JSON.parse(r.stdout) as { effect: string }).effect, 'deny');
  });

  test('a malformed line exits 2 naming the line', async () => {
    const good = '{"agent":"research-agent","type":"fs.read","params":{"path":"/data/research/a"}}';
    const r = await runCli(['eval', '--policy', POLICY], {
      input: `${good}\n${good}\n{"agent": "research-agent", "type":\n${good}\n`,
    });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /line 3: not valid JSON/);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  });

  test('an action of the wrong shape exits 2 naming the line and the field', async () => {
    const r = await runCli(['eval', '--policy', POLICY], {
      input: '{"agent":"research-agent","type":"fs.read","params":{"path":7}}\n',
    });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /line 1: invalid action: `params\.path`/);
  });

  test('an invalid policy exits 2 naming file, line and field', async () => {
    const bad = join(tmp.dir, 'bad.yaml');
    writeFileSync(
      bad,
      'version: 1\nagents:\n  a:\n    allow: [fs.read]\nrules:\n  - id: r1\n    effect: permit\n',
    );
    const r = await runCli(['eval', '--policy', bad], { input: '' });
    assert.equal(r.code, 2);
    assert.ok(r.stderr.includes(`${bad}:7:13: rules[0].effect:`), r.stderr);
  });

  test('warden policy validate accepts the examples and rejects a bad file the same way', async () => {
    const ok = await runCli(['policy', 'validate', 'examples/finance-agent.yaml']);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /valid \(1 agents, 3 rules\)/);
    const bad = join(tmp.dir, 'bad2.yaml');
    writeFileSync(bad, 'agents:\n  a:\n    allow: fs.read\n');
    const r = await runCli(['policy', 'validate', bad, '--json']);
    assert.equal(r.code, 2);
    const body = JSON.parse(r.stdout) as { valid: boolean; issues: Array<{ line: number; field: string }> };
    assert.deepEqual([body.valid, body.issues[0]?.line, body.issues[0]?.field], [false, 3, 'agents.a.allow']);
  });
});

describe('warden eval: hostile and empty policies', () => {
  test('a billion-laughs policy exits 2 with the file and a line, and no stack trace', async () => {
    const file = join(tmp.dir, 'laughs.yaml');
    const lines = ['a0: &a0 [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i <= 9; i++)
      lines.push(
        `a${i}: &a${i} [${Array(10)
          .fill(`*a${i - 1}`)
          .join(', ')}]`,
      );
    writeFileSync(file, `${lines.join('\n')}\n`);
    const r = await runCli(['eval', '--policy', file], { input: '' });
    assert.equal(r.code, 2, r.stderr);
    assert.ok(r.stderr.includes(`${file}:2:`), r.stderr);
    assert.match(r.stderr, /too many aliases/);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  });

  test('an empty policy file exits 2 saying to define an agent', async () => {
    const file = join(tmp.dir, 'empty.yaml');
    writeFileSync(file, '');
    const r = await runCli(['eval', '--policy', file], { input: '' });
    assert.equal(r.code, 2, r.stderr);
    assert.ok(r.stderr.includes(`${file}: (policy): the policy is empty`), r.stderr);
  });

  test('a policy with no agents warns loudly on stderr that every action will be denied', async () => {
    const file = join(tmp.dir, 'no-agents.yaml');
    writeFileSync(file, 'version: 1\nrules: []\n');
    const r = await runCli(['eval', '--policy', file], {
      input: '{"agent":"bot","type":"fs.read","params":{"path":"/x"}}\n',
    });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).effect, 'deny');
    assert.match(r.stderr, /WARNING: policy .* defines no agents, so every action will be denied/);
    assert.match(r.stderr, /add one under `agents`/);
  });
});
