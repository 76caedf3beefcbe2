import assert from 'node:assert/strict';
import test from 'node:test';
import type { ContentFinding, ObservationRecord } from '../contract/observation.js';
import { SessionTaint } from './session-taint.js';

function record(source: string, findings: ContentFinding[] = [], seq?: number): ObservationRecord {
  const labels = ['untrusted', ...new Set(findings.map((f) => f.label))];
  return {
    agent: 'a',
    session: 's',
    source,
    trust: 'untrusted',
    digest: 'd',
    length: 1,
    findings,
    labels,
    values: [],
    at: '2026-01-01T00:00:00.000Z',
    ...(seq === undefined ? {} : { seq }),
  };
}

const injection = (category: string): ContentFinding => ({ label: 'injection', category, message: category });

test('a session reading one source many times keeps it once, however long it runs', () => {
  const session = new SessionTaint();
  for (let i = 1; i <= 10_000; i++) session.apply(record('mcp:files/read', [], i), undefined);
  assert.equal(session.sources.length, 1);
  assert.deepEqual(session.sourcesWith('untrusted'), ['mcp:files/read']);
});

test('sources and finding categories keep the order they were first seen in', () => {
  const session = new SessionTaint();
  session.apply(record('b'), undefined);
  session.apply(record('a', [injection('override')]), undefined);
  session.apply(record('b', [injection('hidden')]), undefined);
  session.apply(record('a', [injection('override')]), undefined);
  session.apply(record('c', [injection('tool-call')]), undefined);
  assert.deepEqual([...new Set(session.sourcesWith('injection'))], ['a', 'b', 'c']);
  assert.deepEqual(
    session.sources.flatMap((s) => s.findings.map((f) => f.category)),
    ['override', 'hidden', 'tool-call'],
  );
  assert.deepEqual([...new Set(session.sourcesWith('untrusted'))], ['b', 'a', 'c']);
});
