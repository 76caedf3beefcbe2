import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import type { Guard } from '../guards/guard.js';
import type { PolicyInput } from '../policy/schema.js';
import { testWarden } from '../testing/index.js';
import type { Warden } from './warden.js';

const policy: PolicyInput = {
  agents: {
    coder: { allow: ['fs.*', 'crm.update', 'email.send'], resources: { paths: ['/**'] } },
  },
  fs: { roots: ['/workspace'] },
  rules: [{ id: 'no-mail', match: { type: 'email.send' }, effect: 'deny' }],
};

const secretsGuard: Guard = {
  name: 'crm-secrets',
  appliesTo: (type) => type === 'crm.update',
  inspect: (action) =>
    JSON.stringify(action.params).includes('AKIA')
      ? [{ effect: 'deny', code: 'crm.secret', message: 'the update carries an access key' }]
      : [],
};

const wardens: Warden[] = [];
after(async () => {
  for (const w of wardens) await w.close();
});

async function make(): Promise<Warden> {
  const warden = await testWarden(policy, { guards: [secretsGuard] });
  wardens.push(warden);
  return warden;
}

test('a denial by a guard names the guard in the decision and its first reason', async () => {
  const warden = await make();
  const d = await warden.check({
    agent: 'coder',
    type: 'fs.read',
    params: { path: '/workspace/../etc/passwd' },
  });
  assert.equal(d.effect, 'deny');
  assert.equal(d.reasons[0]?.stage, 'guards');
  assert.equal(d.reasons[0]?.guard, 'fs');
  assert.equal(d.guard, 'fs');
});

test('a registered guard is named by its own name', async () => {
  const warden = await make();
  const d = await warden.check({
    agent: 'coder',
    type: 'crm.update',
    params: { note: 'AKIAIOSFODNN7EXAMPLE' },
  });
  assert.deepEqual(
    [d.effect, d.reasons[0]?.code, d.reasons[0]?.guard, d.guard],
    ['deny', 'crm.secret', 'crm-secrets', 'crm-secrets'],
  );
});

test('a denial by a rule names the rule and no guard', async () => {
  const warden = await make();
  const d = await warden.check({ agent: 'coder', type: 'email.send', params: { to: 'a@example.com' } });
  assert.deepEqual([d.effect, d.rule, d.reasons[0]?.stage, d.guard], ['deny', 'no-mail', 'rules', undefined]);
});

test('every reason of every decision names its stage', async () => {
  const warden = await make();
  const inputs = [
    { agent: 'coder', type: 'fs.read', params: { path: '/workspace/a.txt' } },
    { agent: 'coder', type: 'fs.delete', params: { path: '/workspace/a.txt' } },
    { agent: 'nobody', type: 'fs.read', params: { path: '/workspace/a.txt' } },
    { agent: 'coder', type: 'not a type', params: {} },
  ];
  for (const input of inputs) {
    const d = await warden.check(input);
    assert.ok(d.reasons.length > 0, `${input.type}: no reason`);
    for (const r of d.reasons) assert.match(r.stage, /^[a-z]+$/, `${input.type}: ${r.code} names no stage`);
  }
});
