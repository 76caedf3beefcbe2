import type { Alert } from '../../contract/alert.js';
import type { AuditRecord } from '../../store/store.js';

/** The overrides that are alerts (lifting one is audited, not alerted). */
const ALERTED_OVERRIDES: Record<
  string,
  { severity: Alert['severity']; title: (who: string) => string; did: string }
> = {
  revoke: { severity: 'critical', title: (who) => `grants of ${who} revoked`, did: 'revoked the grants of' },
  'approve-all': {
    severity: 'warning',
    title: (who) => `every action of ${who} now needs approval`,
    did: 'required approval for every action of',
  },
  tighten: {
    severity: 'warning',
    title: (who) => `rate limits of ${who} tightened`,
    did: 'tightened the rate limits of',
  },
};

/** Kills and overrides are incidents the team hears about, whoever caused them. */
export function incidentAlert(record: AuditRecord): Alert | undefined {
  if (record.type !== 'kill' && record.type !== 'override') return undefined;
  const who = record.agent ? `agent ${record.agent}` : 'all agents';
  const reason =
    typeof record.data.reason === 'string' && record.data.reason ? `: ${record.data.reason}` : '';
  const base = {
    ...(record.agent ? { agent: record.agent } : {}),
    seq: record.seq,
    at: record.ts,
  };
  if (record.type === 'kill') {
    return {
      ...base,
      key: `killswitch.kill:${record.agent ?? '*'}:${record.seq}`,
      severity: 'critical',
      code: 'killswitch.kill',
      title: `${who} stopped`,
      text: `${record.actor ?? 'someone'} stopped ${who}${reason}`,
    };
  }
  const change = record.data.change;
  const said =
    typeof change === 'string' && Object.hasOwn(ALERTED_OVERRIDES, change)
      ? ALERTED_OVERRIDES[change]
      : undefined;
  if (!said) return undefined;
  return {
    ...base,
    key: `override.${change}:${record.agent}:${record.seq}`,
    severity: said.severity,
    code: `override.${change}`,
    title: said.title(who),
    text: `${record.actor ?? 'someone'} ${said.did} ${who}${reason}`,
  };
}
