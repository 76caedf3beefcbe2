/**
 * Warden's layers, bottom to top. `.dependency-cruiser.cjs` turns them into lint rules and
 * `scripts/architecture.mjs` draws them into docs/architecture.md. A folder of src/ is on one layer.
 */
const LAYERS = [
  {
    name: 'contract',
    folders: ['contract'],
    says: 'Action, Decision, Context, Stage, observer, records, errors: imports nothing of Warden',
  },
  {
    name: 'support',
    folders: ['lib', 'net', 'sql', 'audit', 'secrets'],
    says: 'pure helpers: globs, resources, addresses, SQL analysis, canonical JSON, hash chain, secret and PII detection',
  },
  { name: 'policy', folders: ['policy'], says: 'one schema per section, load, compile' },
  {
    name: 'store',
    folders: ['store'],
    says: 'the Store interface and its backends (memory, SQLite), overrides',
  },
  {
    name: 'stages',
    folders: [
      'killswitch',
      'validate',
      'risk',
      'permissions',
      'guards',
      'taint',
      'rules',
      'limits',
      'approvals',
      'sandbox',
      'execute',
      'record',
    ],
    says: 'one folder per stage, in pipeline order; executors under execute',
  },
  {
    name: 'observers',
    folders: ['monitor', 'incident'],
    says: 'logs, metrics, traces, alerts, anomalies; incident reports',
  },
  {
    name: 'composition',
    folders: ['pipeline'],
    says: 'createWarden, the composer, the policy sections assembled into stages',
  },
  {
    name: 'entries',
    folders: ['server', 'mcp', 'adapters', 'cli', 'demo', 'testing', 'redteam', 'check', 'index.ts'],
    says: 'HTTP server, MCP gateway, adapters, CLI, red team, the root export',
  },
];

module.exports = { LAYERS };
