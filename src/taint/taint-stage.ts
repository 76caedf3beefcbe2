import type { Reason } from '../contract/decision.js';
import { SESSION_TAINT_FACT } from '../contract/observation.js';
import { maxRisk, riskRank } from '../contract/risk.js';
import { compileNamePatterns } from '../lib/glob.js';
import type { Context, Stage } from '../policy/context.js';
import type { UntrustedPolicy } from '../policy/sections/untrusted.js';
import { requirement } from '../rules/rules.js';
import { compileServices } from '../secrets/services.js';
import type { Detector } from './detector.js';
import { secretRunHashes } from './secrets.js';
import type { SessionTaint } from './session-taint.js';
import type { TaintSessions } from './taint-sessions.js';
import { hostKeyOfUrl, keysOfParam } from './values.js';

const FINDINGS = 'taint.findings';

interface TaintFinding {
  effect: 'ask' | 'deny';
  reason: Reason;
}

/**
 * The taint stage (after the guards, before the rules): reads what the action's session has
 * read and judges the action by it. In order:
 *
 * 1. an `llm.generate` prompt with instruction-like content gets `taint.injection-in-prompt`
 *    (risk raised to medium-high; a signal, not a refusal);
 * 2. the session's view is left in `facts` for flow rules (`rules[].match.after`);
 * 3. flow default: in a session where an injection was detected (or, for agents tightened to
 *    `trigger: untrusted`, any untrusted content), a consequential action (`untrusted.consequential`;
 *    `http.request` GET/HEAD to a host the session has seen and read-only SQL are reads) gets
 *    `taint.injection-in-session` / `taint.untrusted-in-session`, naming the sources;
 * 4. argument provenance: a parameter in a control position whose value occurs in untrusted
 *    content of the session and not in trusted content (what the user said) gets
 *    `taint.argument-from-untrusted`, naming the source. Reads are exempt.
 *
 * A `deny` finding ends the pipeline here; an `ask` finding is applied by
 * {@link taintVerdictStage} after the rules, so that a rule's `allow` cannot clear it.
 */
export function taintStage(sessions: TaintSessions, promptDetector: Detector): Stage {
  const config = sessions.config;
  const consequential = compileNamePatterns(config.consequential);
  const control = config.provenance.params;
  const judge = (ctx: Context, session: SessionTaint | undefined) => {
    if (!session) return undefined;
    ctx.facts.set(SESSION_TAINT_FACT, session);
    const findings = judgeSession(ctx, session, config, consequential, control);
    if (findings.length === 0) return undefined;
    const denied = findings.find((f) => f.effect === 'deny');
    if (denied) return denied.reason;
    ctx.facts.set(FINDINGS, findings);
    return undefined;
  };
  return {
    name: 'taint',
    run: function taint(ctx) {
      const { action } = ctx;
      if (action.type === 'llm.generate' && typeof action.params.prompt === 'string') {
        const found = promptDetector.detect(action.params.prompt);
        if (Array.isArray(found) && found.some((f) => f.label === 'injection')) {
          ctx.risk = maxRisk(ctx.risk, 'medium-high');
          ctx.reasons.push({
            code: 'taint.injection-in-prompt',
            stage: 'taint',
            message: `the prompt holds instruction-like content (${categories(found)})`,
          });
        }
      }
      if (action.session === undefined) return undefined;
      const session = sessions.session(action.agent, action.session);
      if (session instanceof Promise) return session.then((s) => judge(ctx, s));
      return judge(ctx, session);
    },
  };
}

/** After the rules: an `ask` finding turns an allow into an ask, and leads the reasons of an ask. */
export function taintVerdictStage(): Stage {
  return {
    name: 'taint',
    run: function taintVerdict(ctx) {
      const findings = ctx.facts.get(FINDINGS) as TaintFinding[] | undefined;
      if (!findings) return undefined;
      if (ctx.effect === 'allow') {
        ctx.effect = 'ask';
        ctx.approvals = requirement(ctx.policy, ctx.action.type);
      }
      ctx.reasons.unshift(...findings.map((f) => f.reason));
      return undefined;
    },
  };
}

function judgeSession(
  ctx: Context,
  session: SessionTaint,
  config: UntrustedPolicy,
  consequential: (type: string) => boolean,
  control: readonly string[],
): TaintFinding[] {
  const { action } = ctx;
  const own = config.agents[action.agent];
  const trigger = own?.trigger ?? config.trigger;
  const effect = own?.effect ?? config.effect;
  const out: TaintFinding[] = [];
  const read = isRead(ctx, session);
  const triggered =
    trigger === 'injection' ? session.labels.has('injection') : session.labels.has('untrusted');
  if (triggered && !read && (consequential(action.type) || riskRank(ctx.risk) >= riskRank('high'))) {
    const label = trigger === 'injection' ? 'injection' : 'untrusted';
    const sources = session.sourcesWith(label);
    const what =
      label === 'injection'
        ? `instruction-like content (${categories(session.sources.flatMap((s) => s.findings))})`
        : 'untrusted content';
    out.push({
      effect,
      reason: {
        code: `taint.${label}-in-session`,
        stage: 'taint',
        message: `session \`${action.session}\` read ${what} from ${named(sources)}; \`${action.type}\`${methodOf(ctx)} can send data out or act irreversibly, so it ${effect === 'deny' ? 'is refused' : 'needs approval'}`,
      },
    });
  }
  const leak = seenSecretSent(ctx, session);
  if (leak) out.push({ effect: 'deny', reason: leak });
  const provenance = own?.provenance ?? (config.provenance.enabled ? config.provenance.effect : false);
  if (provenance && !read && session.labels.has('untrusted')) {
    for (const name of control) {
      const value = action.params[name];
      if (value === undefined) continue;
      let source: string | undefined;
      for (const key of keysOfParam(value)) {
        source = session.taintedBy(key);
        if (source) break;
      }
      if (!source) continue;
      out.push({
        effect: provenance,
        reason: {
          code: 'taint.argument-from-untrusted',
          stage: 'taint',
          message: `\`${name}\` (${shown(value)}) occurs in untrusted content from \`${source}\` and not in anything the user said: the value may be the attacker's`,
        },
      });
    }
  }
  return out;
}

/**
 * A secret the session has seen (an observation labelled `secret`), now in the URL, headers or
 * body of an action to a host that is not that secret's own service: `secrets.exfiltration`.
 * This catches the bare value, which the outbound scanner may no longer recognise once the
 * `aws_secret_access_key=` that made it recognisable is gone.
 */
function seenSecretSent(ctx: Context, session: SessionTaint): Reason | undefined {
  if (session.secrets.size === 0) return undefined;
  const { params } = ctx.action;
  if (typeof params.url !== 'string') return undefined;
  let host: string;
  try {
    host = new URL(params.url).hostname.toLowerCase();
  } catch {
    return undefined;
  }
  const carried = JSON.stringify([
    params.url,
    params.headers ?? null,
    params.body ?? null,
    params.query ?? null,
  ]);
  for (const hash of secretRunHashes(carried)) {
    const seen = session.secrets.get(hash);
    if (!seen || SERVICES.get(seen.rule)?.(host)) continue;
    return {
      code: 'secrets.exfiltration',
      stage: 'taint',
      message: `the action carries a secret (${seen.rule}) the session read from \`${seen.source}\` to \`${host}\`, which is not its own service`,
    };
  }
  return undefined;
}

const SERVICES = compileServices({});

/** Reads stay allowed: they neither send data out nor change anything. */
function isRead(ctx: Context, session: SessionTaint): boolean {
  const { type, params } = ctx.action;
  if (type === 'fs.read' || type === 'fs.list' || type === 'llm.generate') return true;
  if (type === 'http.request') {
    const method = String(params.method ?? 'GET').toUpperCase();
    if (method !== 'GET' && method !== 'HEAD') return false;
    // Following links is reading. Once an injection was seen, a GET to a host only the
    // injection named can carry data out in its URL: only a host the session has seen is a read.
    if (!session.labels.has('injection')) return true;
    const host = hostKeyOfUrl(params.url);
    return host !== undefined && session.hosts.has(host);
  }
  if (type === 'sql.query') return ctx.risk === 'low';
  return false;
}

function methodOf(ctx: Context): string {
  if (ctx.action.type !== 'http.request') return '';
  return ` ${String(ctx.action.params.method ?? 'GET').toUpperCase()}`;
}

function categories(findings: readonly { label: string; category: string }[]): string {
  const set = new Set(findings.filter((f) => f.label === 'injection').map((f) => f.category));
  return [...set].join(', ') || 'injection';
}

function named(sources: readonly string[]): string {
  const unique = [...new Set(sources)];
  const shownList = unique.slice(0, 3).map((s) => `\`${s}\``);
  return unique.length > 3 ? `${shownList.join(', ')} and ${unique.length - 3} more` : shownList.join(', ');
}

function shown(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return `\`${text.length > 80 ? `${text.slice(0, 80)}…` : text}\``;
}
