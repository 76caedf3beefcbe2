import { newStageContext, type StageContext, type StageOf } from '../contract/context.js';
import type { CompiledAgent, CompiledPolicy } from './compile.js';

/** The context Warden's own stages share: the contract's, over a compiled policy. */
export type Context = StageContext<CompiledPolicy, CompiledAgent>;

/** A stage of Warden's pipeline. */
export type Stage = StageOf<Context>;

export type { StageOutcome } from '../contract/context.js';

/** A fresh context for one decision under `policy`. */
export function newContext(input: unknown, policy: CompiledPolicy, dryRun: boolean): Context {
  return newStageContext<CompiledPolicy, CompiledAgent>(input, policy, dryRun);
}
