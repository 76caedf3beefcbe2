import type { Warden } from '../pipeline/warden.js';
import type { CompiledPolicy } from '../policy/compile.js';
import type { Store } from '../store/store.js';

/** One line of `warden check`: a launch-checklist item, audited. */
export interface CheckResult {
  /** Stable id (`least-privilege`, `sandbox`, …). */
  id: string;
  title: string;
  status: 'pass' | 'warn' | 'fail';
  /** Why, in one or two sentences naming what was found. */
  why: string;
  /** The exact fix: a policy snippet or a command. Absent on a pass. */
  fix?: string;
}

/** A running `warden serve`, reached over its HTTP API with an admin token. */
export interface ServerTarget {
  url: string;
  token: string;
}

/** What the items look at: the policy, and the deployment when one is named. */
export interface CheckContext {
  policy: CompiledPolicy;
  policyFile: string;
  /** The store `warden serve` uses (`--db`), when checked directly. */
  store?: Store;
  /** Its file, when it is a SQLite store (default `.warden/warden.db`). */
  dbPath?: string;
  server?: ServerTarget;
  /** A directory to scan for hard-coded API keys (`--repo`). */
  repo?: string;
  /** Send a test alert through every sink (`--send-test`). */
  sendTest: boolean;
  /** Warden runs embedded (`createWarden`), where monitoring is off unless the policy turns it on. */
  embedded: boolean;
  now: Date;
  /** A Warden on this policy over an in-memory store, for probing decisions (built once). */
  scratch(): Promise<Warden>;
}

export type CheckItem = (ctx: CheckContext) => Promise<CheckResult>;

export const pass = (id: string, title: string, why: string): CheckResult => ({
  id,
  title,
  status: 'pass',
  why,
});
export const warn = (id: string, title: string, why: string, fix: string): CheckResult => ({
  id,
  title,
  status: 'warn',
  why,
  fix,
});
export const fail = (id: string, title: string, why: string, fix: string): CheckResult => ({
  id,
  title,
  status: 'fail',
  why,
  fix,
});
