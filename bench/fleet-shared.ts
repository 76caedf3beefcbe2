import { readFileSync } from 'node:fs';
import { policyFromObject } from '../src/policy/load.js';

/** The policy and actions every fleet bench row decides, in this process or in a worker. */
export const FLEET_POLICY = policyFromObject({
  agents: { 'research-agent': { allow: ['fs.read'], resources: { paths: ['/data/**'] } } },
});

export const fleetAction = (i: number) => ({
  agent: 'research-agent',
  type: 'fs.read',
  params: { path: `/data/r/${i % 5000}.txt` },
});

/**
 * The Node flags `warden serve` runs with, as `bin/warden` passes them: the one line of
 * `bin/serve.node-flags`, unless NODE_OPTIONS sets `--max-semi-space-size` itself. The fleet
 * bench starts the processes that stand for servers with them, so it measures what users run.
 */
export function serveNodeFlags(nodeOptions = process.env.NODE_OPTIONS ?? ''): string[] {
  if (nodeOptions.includes('--max-semi-space-size')) return [];
  const line = readFileSync(new URL('../../bin/serve.node-flags', import.meta.url), 'utf8').split('\n')[0];
  return (line ?? '').split(' ').filter((flag) => flag !== '');
}
