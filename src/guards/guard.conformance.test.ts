import { readFileSync, rmSync } from 'node:fs';
import { fill, loadCorpus, readJsonl } from '../../test/corpus/corpus.js';
import { buildFsFixture } from '../../test/corpus/fs-fixture.js';
import type { Action } from '../contract/action.js';
import { type Assembly, newAssembly } from '../pipeline/assembly.js';
import { assembleFs } from '../pipeline/sections/fs.js';
import { assembleHttp } from '../pipeline/sections/http.js';
import { assembleSandbox } from '../pipeline/sections/sandbox.js';
import { assembleShell } from '../pipeline/sections/shell.js';
import { assembleSql } from '../pipeline/sections/sql.js';
import { Warden } from '../pipeline/warden.js';
import type { CompiledPolicy } from '../policy/compile.js';
import { policyFromObject } from '../policy/load.js';
import type { PolicyInput } from '../policy/schema.js';
import { MemoryStore } from '../store/memory/memory-store.js';
import { type GuardSubject, guardConformance } from './guard.conformance.js';
import type { Guard } from './guard.js';

// Every guard Warden ships, each built by its own policy section and driven by its corpus
// (test/corpus/<guard>/): attacks whose code is the guard's own, and the benign cases.

let n = 0;
const act = (agent: string, type: string, params: Record<string, unknown>): Action => ({
  agent,
  type,
  params,
  id: `conformance-${n++}`,
});

/** The guard `assemble` adds to the parts, built afresh from the policy each time. */
async function sectionGuard(
  assemble: (parts: Assembly, policy: CompiledPolicy, store: MemoryStore) => void | Promise<void>,
  policy: CompiledPolicy,
): Promise<Guard> {
  const parts = newAssembly();
  await assemble(parts, policy, new MemoryStore());
  await Promise.all(parts.closers.map((close) => close()));
  const [guard, ...more] = parts.guards;
  if (!guard || more.length > 0) throw new Error(`expected one guard, got ${parts.guards.length}`);
  return guard;
}

/** Decides through a whole pipeline whose guards stage holds `guards` only (see `GuardSubject.decide`). */
function decider(policy: CompiledPolicy): GuardSubject['decide'] {
  return async (guards, actions) => {
    const warden = new Warden({
      policy,
      store: new MemoryStore(),
      guards: [...guards],
      // The rules stage would deny every shell.exec without one; here only guards may refuse.
      sandboxAvailable: true,
      onStageError: () => undefined,
    });
    await warden.start();
    try {
      return await Promise.all(actions.map((a) => warden.check(a)));
    } finally {
      await warden.close();
    }
  };
}

function subject(
  family: string,
  input: PolicyInput,
  assemble: Parameters<typeof sectionGuard>[0],
  cases: Pick<GuardSubject, 'flagged' | 'passed' | 'hostile'>,
  close?: () => Promise<void>,
): GuardSubject {
  const policy = policyFromObject(input);
  return {
    family,
    policy,
    guard: () => sectionGuard(assemble, policy),
    decide: decider(policy),
    ...cases,
    ...(close ? { close } : {}),
  };
}

const own = (family: string) => (c: { code?: string }) => c.code?.startsWith(`${family}.`) === true;

guardConformance('fs', async () => {
  const { base, root } = buildFsFixture();
  const action = (c: { action: { type: string; params: Record<string, unknown> } }) => {
    const filled = fill(c.action, { root });
    return act('coder', filled.type, filled.params);
  };
  return subject(
    'fs',
    {
      agents: { coder: { allow: ['fs.*'], resources: { paths: ['/**'] } } },
      fs: { roots: [root], maxWriteBytes: 1024 },
    },
    assembleFs,
    {
      flagged: [
        ...loadCorpus('fs', 'attacks.jsonl').filter(own('fs')).map(action),
        act('coder', 'fs.delete', { path: `${root}/tmp/scratch.txt` }), // raised: deletes need approval
      ],
      passed: loadCorpus('fs', 'benign.jsonl').map(action),
      hostile: [
        act('coder', 'fs.read', { path: `${root}/docs/${'../'.repeat(1300)}etc/passwd` }),
        act('coder', 'fs.read', { path: `${root}/${'x'.repeat(300)}/a.txt` }),
        act('coder', 'fs.read', { path: `${root}/DOCS/../.ENV` }),
        act('coder', 'fs.write', { path: `${root}/out/new.txt`, content: 'é'.repeat(600) }),
      ],
    },
    async () => rmSync(base, { recursive: true, force: true }),
  );
});

guardConformance('sql', async () => {
  // The corpus's policy, without databases (nothing to open), but writes ask (raised to high, below
  // the top). Cases naming a database are left out.
  const plain = (c: { action: { params: Record<string, unknown> } }) =>
    c.action.params.database === undefined;
  const action = (c: { action: { params: Record<string, unknown> } }) =>
    act('analyst', 'sql.query', c.action.params);
  const nested = (depth: number) => `SELECT ${'('.repeat(depth)}1${')'.repeat(depth)}; DROP TABLE users`;
  return subject(
    'sql',
    {
      agents: {
        analyst: {
          allow: ['sql.query'],
          resources: { tables: { allow: ['*'], deny: ['pg_*', 'pg_catalog.*', 'information_schema.*'] } },
        },
      },
      sql: {
        writes: 'ask',
        ddl: 'ask',
        destructive: 'deny',
        admin: 'deny',
        forbid: ['drop', 'truncate'],
        forbidTables: { users: ['delete'] },
      },
    },
    (parts, policy, store) => assembleSql(parts, policy, store),
    {
      flagged: loadCorpus('sql', 'attacks.jsonl').filter(own('sql')).filter(plain).map(action),
      passed: loadCorpus('sql', 'benign.jsonl').filter(plain).map(action),
      hostile: [
        act('analyst', 'sql.query', { sql: 'SELECT 1', database: '__proto__' }),
        act('analyst', 'sql.query', { sql: 'SELECT 1', database: 'constructor' }),
        act('analyst', 'sql.query', { sql: nested(2000) }),
      ],
    },
  );
});

guardConformance('http', async () => {
  interface Case {
    params: Record<string, unknown>;
    code?: string;
  }
  const load = (file: string) => readJsonl<Case>('http', file, () => undefined);
  // `{PORT}` is the corpus's loopback test server; any port will do for the guard.
  const action = (c: Case) => act('agent', 'http.request', fill(c.params, { PORT: '8443' }));
  return subject(
    'http',
    {
      agents: { agent: { allow: ['http.request'], resources: { hosts: ['*'] } } },
      http: {
        endpoints: [
          // Raises to medium: a raise below the top must still never lower a higher risk.
          { url: 'https://api.shop.example/v1/reports*', risk: 'medium' },
          {
            url: 'https://api.shop.example/v1/orders*',
            methods: ['POST', 'PUT'],
            schema: {
              type: 'object',
              required: ['sku', 'qty'],
              additionalProperties: false,
              properties: {
                sku: { type: 'string', minLength: 1 },
                qty: { type: 'integer', minimum: 1, maximum: 100 },
              },
            },
          },
        ],
      },
    },
    assembleHttp,
    {
      flagged: load('attacks.jsonl').filter(own('http')).map(action),
      passed: [
        ...load('benign.jsonl').map(action),
        act('agent', 'http.request', { url: 'https://api.shop.example/v1/reports/7' }),
      ],
      hostile: [
        act('agent', 'http.request', { url: 'https://example.com/', method: 'constructor' }),
        act('agent', 'http.request', { url: 'https://example.com/', headers: { HoSt: '127.0.0.1' } }),
        act('agent', 'http.request', { url: `http://${'a@'.repeat(5000)}127.0.0.1/` }),
        act('agent', 'http.request', {
          url: 'https://api.shop.example/v1/orders',
          method: 'POST',
          body: `{"qty": 1, "sku": ${'{"v":'.repeat(5000)}"x"${'}'.repeat(5000)}}`,
        }),
      ],
    },
  );
});

const SHELL_POLICY = JSON.parse(
  readFileSync(new URL('../../test/corpus/shell/policy.json', import.meta.url), 'utf8'),
) as PolicyInput;

/** Commands nested deeper than the guard's walk can recurse. */
const DEEP_COMMANDS = [
  `${'$('.repeat(20_000)}ls${')'.repeat(20_000)}`,
  `${'('.repeat(40_000)}ls${')'.repeat(40_000)}`,
  `ls ${'$(('.repeat(15_000)}1${'))'.repeat(15_000)}`,
];

guardConformance('shell', async () => {
  interface Case {
    command?: string;
    argv?: string[];
  }
  const action = (c: Case) =>
    act('dev', 'shell.exec', c.command !== undefined ? { command: c.command } : { argv: c.argv });
  const load = (file: string) => readJsonl<Case>('shell', file, () => undefined);
  return subject('shell', SHELL_POLICY, (parts, policy) => assembleShell(parts, policy), {
    flagged: load('attacks.jsonl').map(action),
    passed: load('benign.jsonl').map(action),
    hostile: [
      ...DEEP_COMMANDS.map((command) => act('dev', 'shell.exec', { command })),
      act('dev', 'shell.exec', { argv: ['__proto__'] }),
      act('dev', 'shell.exec', { command: 'constructor' }),
    ],
  });
});

guardConformance('sandbox', async () =>
  // A Docker engine that is not there: the section adds its refusing guard (`sandbox.unavailable`).
  subject(
    'sandbox',
    {
      agents: { dev: { allow: ['shell.exec', 'code.exec'] } },
      sandbox: { backend: 'docker', docker: { socket: '/nonexistent/warden-conformance/docker.sock' } },
    },
    assembleSandbox,
    {
      flagged: [
        act('dev', 'shell.exec', { command: 'ls' }),
        act('dev', 'shell.exec', { argv: ['/bin/true'] }),
        act('dev', 'code.exec', { language: 'python', code: 'print(1)' }),
      ],
      passed: [],
      hostile: DEEP_COMMANDS.map((command) => act('dev', 'shell.exec', { command })),
    },
  ),
);
