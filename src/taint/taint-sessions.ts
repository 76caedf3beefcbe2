import { hash } from 'node:crypto';
import type { ContentFinding, ObservationRecord, Trust } from '../contract/observation.js';
import { compileNamePatterns, type NameMatcher } from '../lib/glob.js';
import type { UntrustedPolicy } from '../policy/sections/untrusted.js';
import type { ObservationStore } from '../store/store.js';
import { type Detector, detectAll } from './detector.js';
import { observationOf } from './observation-input.js';
import { secretKeys } from './secrets.js';
import { SessionTaint } from './session-taint.js';
import { hostKeyOfUrl, keysOfText } from './values.js';

/** How an observation is stored (SPEC §2b). */
export interface ObserveOptions {
  /** `false`: learnt by this process only, not stored (`warden eval`). Default true. */
  persist?: boolean;
  /**
   * `'before-return'` (default): `observe()` resolves once the observation is durable.
   * `'next-commit'`: it is learnt at once and rides the store's next audit commit, so a crash
   * may lose the last observations. Only for a session no other process or later run can
   * decide in (the gateway's own generated one): for it, what is learnt here is all that counts.
   */
  durable?: 'before-return' | 'next-commit';
}

/** What `observe()` answers (one line of `warden eval` per observation line). */
export interface Observed {
  observed: true;
  session: string;
  /** Every label the session now carries. */
  labels: string[];
  source: string;
  trust: Trust;
  /** What the detectors found in this observation. */
  findings: ContentFinding[];
}

export interface TaintSessionsOptions {
  /** Observations persist here; without it they live in this process only. */
  store?: ObservationStore | undefined;
  /**
   * Whether other processes may add observations to the store (a SQLite file or a database):
   * then a session is read from the store on first use and again when its copy is older than
   * `refreshMs`. A memory store has no other writer.
   */
  shared?: boolean;
  refreshMs?: number;
  detectors: readonly Detector[];
}

/**
 * The sessions' taint: every observation is checked by the detectors, its values are indexed
 * and it is stored; the taint stage reads a session synchronously when this process has it.
 *
 * INVARIANT: a session's copy here only grows (labels and values are never removed), so a
 * stale copy can miss an observation another process made in the last `refreshMs`, never
 * forget one.
 */
export class TaintSessions {
  readonly #sessions = new Map<string, SessionTaint>();
  readonly #loading = new Map<string, Promise<SessionTaint>>();
  readonly #trusted: NameMatcher;
  readonly #store: ObservationStore | undefined;
  readonly #shared: boolean;
  readonly #refreshMs: number;
  readonly #detectors: readonly Detector[];
  /** Observations of sessions this process keeps without a store (or with `persist: false`). */
  readonly #local = new Map<string, ObservationRecord[]>();
  #evicted = false;

  constructor(
    readonly config: UntrustedPolicy,
    options: TaintSessionsOptions,
  ) {
    this.#trusted = compileNamePatterns(config.trusted);
    this.#store = options.store;
    this.#shared = options.shared ?? false;
    this.#refreshMs = options.refreshMs ?? 1000;
    this.#detectors = options.detectors;
  }

  /**
   * Learns one observation (SPEC §2b): validates it, runs the detectors, indexes its values in
   * the session and stores it (unless `persist` is false, as in `warden eval`). Rejects with an
   * `ObservationError` naming the field for invalid input.
   */
  async observe(input: unknown, options: ObserveOptions = {}): Promise<Observed> {
    const obs = observationOf(input);
    const trust: Trust = obs.trust ?? (this.#trusted(obs.source) ? 'trusted' : 'untrusted');
    const found = await detectAll(this.#detectors, obs.content);
    const findings = trust === 'trusted' ? found.filter((f) => f.label === 'secret') : found;
    const labels = new Set<string>();
    if (trust === 'untrusted') labels.add('untrusted');
    for (const f of findings) {
      labels.add(f.label);
      if (f.label === 'injection') labels.add(`injection:${f.category}`);
    }
    const record: ObservationRecord = {
      agent: obs.agent,
      session: obs.session,
      source: obs.source,
      trust,
      digest: hash('sha256', obs.content),
      length: obs.content.length,
      findings,
      labels: [...labels],
      values: [...keysOfText(obs.content), ...secretKeys(obs.content)],
      at: new Date().toISOString(),
      ...(this.config.keepContent ? { content: obs.content } : {}),
    };
    const session = await this.session(obs.agent, obs.session, true);
    let stored = record;
    if (this.#store && options.persist !== false && options.durable === 'next-commit') {
      session.apply(record, hostOfSource(obs.source));
      const store = this.#store;
      (store.appendLater ? store.appendLater(record) : store.append(record)).then(
        ({ seq }) => session.appliedFromStore(seq),
        (error: unknown) =>
          process.stderr.write(
            `${JSON.stringify({ level: 'error', msg: 'an observation was learnt but could not be stored; the session is judged by it all the same', source: obs.source, error: String(error) })}\n`,
          ),
      );
    } else if (this.#store && options.persist !== false) {
      try {
        stored = await this.#store.append(record);
      } finally {
        // Applied even when the store failed: the session is tainted in this process either way.
        session.apply(stored, hostOfSource(obs.source));
      }
    } else {
      session.apply(record, hostOfSource(obs.source));
      const key = keyOf(obs.agent, obs.session);
      const list = this.#local.get(key) ?? [];
      list.push(record);
      this.#local.set(key, list);
    }
    return {
      observed: true,
      session: obs.session,
      labels: [...session.labels],
      source: obs.source,
      trust,
      findings,
    };
  }

  /**
   * The session's taint: synchronously when this process holds a fresh copy (the common case),
   * else read from the store. `undefined` when nothing was observed in it and `create` is false.
   */
  session(agent: string, session: string): SessionTaint | undefined | Promise<SessionTaint | undefined>;
  session(agent: string, session: string, create: true): Promise<SessionTaint>;
  session(
    agent: string,
    session: string,
    create = false,
  ): SessionTaint | undefined | Promise<SessionTaint | undefined> {
    const key = keyOf(agent, session);
    const held = this.#sessions.get(key);
    if (held && (!this.#shared || Date.now() - held.loadedAt < this.#refreshMs)) {
      return create || !held.empty() ? held : undefined;
    }
    // Unshared: this process saw every observation, so a session it does not hold has none,
    // unless it was dropped to keep `maxSessions` (then the store has it).
    const fromStore = this.#store && (this.#shared || this.#evicted);
    if (!fromStore) {
      if (!create) return undefined;
      return Promise.resolve(held ?? this.#hold(key, new SessionTaint()));
    }
    return this.#load(key, agent, session, held).then((s) => (create || !s.empty() ? s : undefined));
  }

  /** The session's observations, oldest first (the store's, or this process's when it keeps none). */
  async list(
    agent: string,
    session: string,
    options?: { afterSeq?: number; limit?: number },
  ): Promise<ObservationRecord[]> {
    const local = this.#local.get(keyOf(agent, session)) ?? [];
    if (!this.#store) return local.slice(0, options?.limit ?? 1000);
    const stored = await this.#store.list(agent, session, options);
    return local.length === 0 ? stored : [...stored, ...local];
  }

  #load(key: string, agent: string, session: string, held: SessionTaint | undefined): Promise<SessionTaint> {
    const pending = this.#loading.get(key);
    if (pending) return pending;
    const store = this.#store as ObservationStore;
    const target = held ?? new SessionTaint();
    const loading = (async () => {
      for (;;) {
        const page = await store.list(agent, session, { afterSeq: target.lastSeq, limit: 10_000 });
        for (const record of page) target.apply(record, hostOfSource(record.source), true);
        if (page.length < 10_000) break;
      }
      target.loadedAt = Date.now();
      return this.#hold(key, target);
    })().finally(() => this.#loading.delete(key));
    this.#loading.set(key, loading);
    return loading;
  }

  #hold(key: string, session: SessionTaint): SessionTaint {
    if (session.loadedAt === 0) session.loadedAt = Date.now();
    this.#sessions.delete(key);
    this.#sessions.set(key, session);
    if (this.#sessions.size > this.config.maxSessions) {
      const oldest = this.#sessions.keys().next().value as string;
      this.#sessions.delete(oldest);
      this.#evicted = true;
    }
    return session;
  }
}

function keyOf(agent: string, session: string): string {
  return `${agent}\0${session}`;
}

function hostOfSource(source: string): string | undefined {
  return source.startsWith('http:') ? hostKeyOfUrl(source.slice(5)) : undefined;
}
