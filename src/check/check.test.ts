import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { checkpointSigner, generateCheckpointKeys } from '../audit/checkpoint.js';
import { policyFromObject } from '../policy/load.js';
import type { PolicyInput } from '../policy/schema.js';
import { redteamEntry } from '../redteam/record.js';
import { policyDigest, type RedteamReport } from '../redteam/run.js';
import { writeCheckpoint } from '../store/checkpoints.js';
import { MemoryStore } from '../store/memory/memory-store.js';
import type { Store } from '../store/store.js';
import type { CheckContext, CheckItem, CheckResult } from './check-types.js';
import {
  alertSinks,
  auditVerifies,
  killSwitchWorks,
  recentCheckpoint,
  redteamOnRecord,
  sandboxWorks,
} from './deployment-items.js';
import {
  approvalGates,
  costAlerts,
  leastPrivilege,
  limitsSet,
  monitoringOn,
  policyProtected,
} from './policy-items.js';
import { runCheck } from './run-check.js';
import { noSecretsInRepo } from './secrets-item.js';

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'warden-check-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

const READER: PolicyInput['agents'] = {
  reader: { allow: ['fs.read'], resources: { paths: ['/srv/data/**'] } },
};

async function run(
  item: CheckItem,
  input: PolicyInput,
  more: Partial<Omit<CheckContext, 'scratch' | 'policy'>> = {},
): Promise<CheckResult> {
  const policy = policyFromObject(input);
  const [result] = await runCheck(
    {
      policy,
      policyFile: join(dir, 'warden.yaml'),
      sendTest: false,
      embedded: false,
      now: new Date(),
      ...more,
    },
    [item],
  );
  return result as CheckResult;
}

const status = (r: CheckResult) => r.status;

describe('warden check: policy items', () => {
  test('least privilege fails on a wildcard type grant and on a destructive action allowed outright', async () => {
    assert.equal(status(await run(leastPrivilege, { agents: { a: { allow: ['*'] } } })), 'fail');
    const open = await run(leastPrivilege, {
      agents: { a: { allow: ['sql.query'], resources: { tables: ['orders'] } } },
      rules: [{ id: 'anything-sql', effect: 'allow', match: { type: 'sql.query' } }],
      sql: { destructive: 'allow', forbid: [] },
    });
    assert.equal(open.status, 'fail', open.why);
    assert.match(open.why, /DROP TABLE orders|DELETE FROM orders/);
    assert.equal(status(await run(leastPrivilege, { agents: READER })), 'pass');
  });

  test('approval gates fail when a rule lets high-risk actions through, pass with the defaults', async () => {
    const bad = await run(approvalGates, {
      agents: { a: { allow: ['code.exec'] } },
      rules: [{ id: 'run-code', effect: 'allow', match: { type: 'code.exec' } }],
    });
    assert.equal(bad.status, 'fail');
    assert.match(bad.why, /run-code/);
    assert.equal(
      status(
        await run(approvalGates, {
          agents: { a: { allow: ['code.exec', 'fs.read'], resources: { paths: ['/srv/**'] } } },
        }),
      ),
      'pass',
    );
  });

  test('limits fail for an agent without a rate limit or, when it can spend, a budget; pass when set', async () => {
    assert.equal(status(await run(limitsSet, { agents: READER })), 'fail');
    const spender = {
      agents: { a: { allow: ['llm.generate'] } },
      limits: { rate: [{ windows: { '1m': 60 } }], loop: { max: 5 } },
    };
    assert.equal(status(await run(limitsSet, spender)), 'fail');
    const good = await run(limitsSet, {
      ...spender,
      limits: { ...spender.limits, budgets: [{ usd: 10, period: 'day', match: { type: 'llm.generate' } }] },
    });
    assert.equal(good.status, 'pass', good.why);
  });

  test('monitoring fails when off, and when left unset for an embedded Warden; passes when on', async () => {
    assert.equal(status(await run(monitoringOn, { agents: READER, monitoring: { enabled: false } })), 'fail');
    assert.equal(status(await run(monitoringOn, { agents: READER }, { embedded: true })), 'fail');
    assert.equal(status(await run(monitoringOn, { agents: READER })), 'warn');
    assert.equal(
      status(await run(monitoringOn, { agents: READER, monitoring: { enabled: true } }, { embedded: true })),
      'pass',
    );
  });

  test('cost alerts fail when none can fire, warn without absolute thresholds, pass with them', async () => {
    assert.equal(
      status(await run(costAlerts, { agents: READER, monitoring: { anomalies: { enabled: false } } })),
      'fail',
    );
    assert.equal(status(await run(costAlerts, { agents: READER })), 'warn');
    const good = {
      agents: READER,
      monitoring: { anomalies: { costThreshold: { perActionUsd: 5, perHourUsd: 50 } } },
    };
    assert.equal(status(await run(costAlerts, good)), 'pass');
  });

  test("the policy's own file is reported when an agent may overwrite it, and passes when protected", async () => {
    const writer = { w: { allow: ['fs.write', 'fs.delete'], resources: { paths: [`${dir}/**`] } } };
    // Self-protection (on by default) covers the policy file; turned off, nothing does.
    const bad = await run(policyProtected, {
      agents: writer,
      fs: { roots: [dir] },
      selfProtection: { enabled: false },
    });
    assert.equal(bad.status, 'fail');
    assert.match(bad.why, /warden\.yaml/);
    const byName = await run(policyProtected, {
      agents: writer,
      fs: { roots: [dir], protectedExtra: ['warden.yaml', '*.db'] },
      selfProtection: { enabled: false },
    });
    assert.equal(byName.status, 'pass', byName.why);
    const byDefault = await run(policyProtected, { agents: writer, fs: { roots: [dir] } });
    assert.equal(byDefault.status, 'pass', byDefault.why);
  });
});

describe('warden check: deployment items', () => {
  test('the sandbox item fails when no backend runs and an agent needs one; passes where one starts', async () => {
    const shell = { a: { allow: ['shell.exec'] } };
    assert.equal(status(await run(sandboxWorks, { agents: shell, sandbox: { backend: 'none' } })), 'fail');
    assert.equal(status(await run(sandboxWorks, { agents: READER, sandbox: { backend: 'none' } })), 'warn');
    // This host runs bubblewrap in the test environment (scripts/test.mjs installs it).
    assert.equal(status(await run(sandboxWorks, { agents: shell })), 'pass');
  });

  test('alert sinks fail when none is configured or the test alert does not arrive; pass when it does', async () => {
    assert.equal(status(await run(alertSinks, { agents: READER })), 'fail');
    let received = 0;
    const server: Server = createServer((req, res) => {
      received++;
      req.resume();
      res.end('ok');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const port = (server.address() as AddressInfo).port;
      const sink = (url: string) => ({
        agents: READER,
        monitoring: { alerts: { sinks: [{ type: 'webhook' as const, url, secret: 'k' }] } },
      });
      assert.equal(status(await run(alertSinks, sink(`http://127.0.0.1:${port}/hook`))), 'warn', 'untested');
      const ok = await run(alertSinks, sink(`http://127.0.0.1:${port}/hook`), { sendTest: true });
      assert.equal(ok.status, 'pass', ok.why);
      assert.equal(received, 1);
      server.close();
      const down = await run(alertSinks, sink(`http://127.0.0.1:${port}/hook`), { sendTest: true });
      assert.equal(down.status, 'fail');
    } finally {
      server.close();
    }
  });

  test('the kill switch round trip passes on a store and fails on one that does not keep kills', async () => {
    const store = new MemoryStore();
    assert.equal(status(await run(killSwitchWorks, { agents: READER }, { store })), 'pass');
    assert.deepEqual(await store.kills.list(), [], 'the scratch agent is revived');
    const forgetful = Object.assign(Object.create(store) as Store, {
      kills: { ...store.kills, kill: async () => undefined, revive: async () => false, list: async () => [] },
    });
    assert.equal(status(await run(killSwitchWorks, { agents: READER }, { store: forgetful })), 'fail');
    assert.equal(status(await run(killSwitchWorks, { agents: READER })), 'warn', 'no deployment named');
  });

  test('the audit chain item passes on a sound log and fails on a tampered one', async () => {
    const store = new MemoryStore();
    await store.audit.append([{ type: 'note', data: { x: 1 } }]);
    assert.equal(status(await run(auditVerifies, { agents: READER }, { store })), 'pass');
    const tampered = Object.assign(Object.create(store) as Store, {
      audit: {
        ...store.audit,
        verify: async () => ({
          ok: false,
          records: 1,
          firstBad: { seq: 1, problem: 'hash-mismatch', message: 'changed' },
          elapsedMs: 0,
        }),
      },
    });
    const bad = await run(auditVerifies, { agents: READER }, { store: tampered });
    assert.equal(bad.status, 'fail');
    assert.match(bad.why, /record 1/);
  });

  test('the checkpoint item fails with no signed checkpoint, passes with a fresh one, warns when it is old', async () => {
    const store = new MemoryStore();
    await store.audit.append([{ type: 'decision', agent: 'reader', data: {} }]);
    assert.equal(status(await run(recentCheckpoint, { agents: READER }, { store })), 'fail');
    const key = checkpointSigner(generateCheckpointKeys().privateKey);
    await writeCheckpoint(store.audit, key);
    assert.equal(status(await run(recentCheckpoint, { agents: READER }, { store })), 'pass');
    const later = new Date(Date.now() + 3 * 86_400_000);
    assert.equal(status(await run(recentCheckpoint, { agents: READER }, { store, now: later })), 'warn');
  });

  test('the red-team item fails with no run or a failed run on record, passes with a recent clean one', async () => {
    const input: PolicyInput = { agents: READER };
    const policy = policyFromObject(input);
    const store = new MemoryStore();
    assert.equal(status(await run(redteamOnRecord, input, { store })), 'fail');
    const report = (ok: boolean): RedteamReport => ({
      policy: 'warden.yaml',
      policyDigest: policyDigest(policy),
      seed: 19,
      variants: 3,
      startedAt: new Date().toISOString(),
      elapsedMs: 1,
      checks: 10,
      checksPerSecond: 10,
      observations: 'not-available',
      agents: [],
      ok,
    });
    await store.audit.append([redteamEntry(report(false), 'cli:test')]);
    assert.equal(status(await run(redteamOnRecord, input, { store })), 'fail');
    await store.audit.append([redteamEntry(report(true), 'cli:test')]);
    assert.equal(status(await run(redteamOnRecord, input, { store })), 'pass');
    const changed = await run(
      redteamOnRecord,
      { agents: { ...READER, other: { allow: ['fs.list'] } } },
      { store },
    );
    assert.equal(changed.status, 'warn', 'a run of another version of the policy');
  });

  test('the secret scan fails on a hard-coded token in --repo and passes on a clean tree', async () => {
    const repo = join(dir, 'repo');
    rmSync(repo, { recursive: true, force: true });
    const { mkdirSync } = await import('node:fs');
    mkdirSync(join(repo, 'src'), { recursive: true });
    writeFileSync(join(repo, 'src', 'app.ts'), 'export const answer = 42;\n');
    assert.equal(status(await run(noSecretsInRepo, { agents: READER }, { repo })), 'pass');
    writeFileSync(
      join(repo, 'src', 'client.ts'),
      'const token = "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";\n',
    );
    const bad = await run(noSecretsInRepo, { agents: READER }, { repo });
    assert.equal(bad.status, 'fail');
    assert.match(bad.why, /src\/client\.ts:1/);
    assert.doesNotMatch(bad.why, /wWPw5k4aXcaT4fNP0UcnZwJUVFk6LO0pINUx/, 'secrets are masked');
  });
});
