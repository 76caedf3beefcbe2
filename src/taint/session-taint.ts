import type { ContentFinding, ObservationRecord, SessionTaintView } from '../contract/observation.js';

/** One untrusted source of a session and what it brought. */
export interface TaintSource {
  source: string;
  labels: Set<string>;
  findings: ContentFinding[];
}

/**
 * What one session has read, indexed for the taint stage: its labels, its untrusted sources,
 * the value keys untrusted content held (with the first source that held each) and the keys
 * trusted content (the user) held. An action looks up its control parameters' keys here:
 * O(parameters), never a rescan of the documents.
 */
export class SessionTaint implements SessionTaintView {
  readonly labels = new Set<string>();
  /**
   * The untrusted sources (and those with findings), in the order first seen: one entry per
   * source, labels and finding categories, so that a session reading one source ten thousand
   * times keeps one entry, and `sourcesWith` and the messages built from it (first appearance of
   * each source and category) stay what one entry per observation would give.
   */
  readonly sources: TaintSource[] = [];
  readonly #sourceKeys = new Set<string>();
  /** Key → the first untrusted source that held it. */
  readonly untrusted = new Map<string, string>();
  /** Keys held by trusted content (what the user said). */
  readonly clean = new Set<string>();
  /**
   * Host keys the session has seen: sources of its `http:` observations, and hosts named in
   * content without an injection finding (hosts an injection names do not count).
   */
  readonly hosts = new Set<string>();
  /** Secrets the session has seen, by the hash of each run of their value: the rule and the source. */
  readonly secrets = new Map<string, { rule: string; source: string }>();
  /** The highest store `seq` read from the store (reloads start after it). */
  lastSeq = 0;
  loadedAt = 0;
  /** Store `seq`s applied, so an observation made here and read back from the store counts once. */
  readonly #applied = new Set<number>();

  /** Whether nothing labels the session yet (the taint stage then has nothing to say). */
  empty(): boolean {
    return this.labels.size === 0;
  }

  /** Marks the store's `seq` of an observation applied before it was stored, so reading it back does not count it twice. */
  appliedFromStore(seq: number | undefined): void {
    if (seq !== undefined) this.#applied.add(seq);
  }

  apply(record: ObservationRecord, hostOfSource: string | undefined, fromStore = false): void {
    if (record.seq !== undefined) {
      if (fromStore && record.seq > this.lastSeq) this.lastSeq = record.seq;
      if (this.#applied.has(record.seq)) return;
      this.#applied.add(record.seq);
    }
    if (hostOfSource) this.hosts.add(hostOfSource);
    if (!record.labels.includes('injection'))
      for (const key of record.values) if (key.startsWith('host:')) this.hosts.add(key);
    for (const key of record.values) {
      if (!key.startsWith('secret:')) continue;
      const [, hash, rule] = key.split(':');
      if (hash && rule && !this.secrets.has(hash)) this.secrets.set(hash, { rule, source: record.source });
    }
    if (record.trust === 'trusted') {
      for (const key of record.values) this.clean.add(key);
    } else {
      for (const key of record.values) if (!this.untrusted.has(key)) this.untrusted.set(key, record.source);
    }
    for (const label of record.labels) this.labels.add(label);
    if (record.trust === 'untrusted' || record.findings.length > 0) {
      let key = `${record.source}\0${record.labels.join('\0')}\0`;
      for (const f of record.findings) key += `${f.label}:${f.category}\0`;
      if (!this.#sourceKeys.has(key)) {
        this.#sourceKeys.add(key);
        this.sources.push({
          source: record.source,
          labels: new Set(record.labels),
          findings: record.findings,
        });
      }
    }
  }

  sourcesWith(label = 'untrusted'): readonly string[] {
    const out: string[] = [];
    for (const s of this.sources) if (s.labels.has(label)) out.push(s.source);
    return out;
  }

  /** The untrusted source a key came from, unless trusted content also held it. */
  taintedBy(key: string): string | undefined {
    if (this.clean.has(key)) return undefined;
    return this.untrusted.get(key);
  }
}
