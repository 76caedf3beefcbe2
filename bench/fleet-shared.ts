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
