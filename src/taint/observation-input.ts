import { type Observation, ObservationError, ObservationSchema } from '../contract/observation.js';

const FIELDS = new Set(['agent', 'session', 'source', 'content', 'trust']);

const sized = (v: unknown, max: number): v is string =>
  typeof v === 'string' && v.length > 0 && v.length <= max;

/**
 * An observation's input checked against `ObservationSchema`: the common valid case (a plain
 * object of short strings, as the MCP gateway and the adapters make it) by hand, since zod's
 * parse is a tenth of the gateway's work per call; anything else, and every failure, through
 * the schema, which stays the single source of the rules and of the error messages. A property
 * test holds the two together.
 *
 * Returns a copy: the caller changing its object afterwards cannot change what was observed.
 * Throws an `ObservationError` naming the field for invalid input.
 */
export function observationOf(input: unknown): Observation {
  const fast = fastPath(input);
  if (fast) return fast;
  const parsed = ObservationSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue?.path.join('.') ?? '';
    throw new ObservationError(
      `invalid observation: ${field ? `\`${field}\`: ` : ''}${issue?.message ?? 'invalid'}`,
    );
  }
  return parsed.data;
}

/** The valid common case; `undefined` means "ask zod". */
function fastPath(input: unknown): Observation | undefined {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) return undefined;
  if (Object.getPrototypeOf(input) !== Object.prototype) return undefined;
  const o = input as Record<string, unknown>;
  for (const key of Object.keys(o)) if (!FIELDS.has(key)) return undefined;
  const { agent, session, source, content, trust } = o;
  if (!sized(agent, 200) || !sized(session, 200) || !sized(source, 2000)) return undefined;
  if (typeof content !== 'string' || content.length > 4_000_000) return undefined;
  const observation: Observation = { agent, session, source, content };
  if (trust === 'trusted' || trust === 'untrusted') observation.trust = trust;
  else if (trust !== undefined) return undefined;
  return observation;
}
