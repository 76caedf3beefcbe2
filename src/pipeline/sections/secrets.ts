import type { Action } from '../../contract/action.js';
import type { ExecutionContext } from '../../execute/execute.js';
import { withSecretReferences } from '../../execute/secret-references.js';
import { compileSecrets, createSecretsGuard } from '../../guards/secrets/secrets-guard.js';
import type { CompiledPolicy } from '../../policy/compile.js';
import { reviewText } from '../../secrets/review.js';
import type { Assembly } from '../assembly.js';

/**
 * The `secrets` section: the secrets guard (references, outbound secrets, output review of
 * `llm.output`), `{{secret:NAME}}` resolution inside Warden's own executors, and the executor of
 * `llm.output`, whose output is the reviewed text. Runs after the sections that register
 * executors and before `untrusted`, so what a session observes is already cleaned.
 */
export function assembleSecrets(parts: Assembly, policy: CompiledPolicy): void {
  const config = policy.config.secrets;
  const secrets = compileSecrets(config);
  parts.guards.push(createSecretsGuard(secrets));
  for (const [type, executor] of Object.entries(parts.executors))
    parts.executors[type] = withSecretReferences(executor, config.references);
  parts.executors['llm.output'] = function reviewedOutput(action: Action, _context: ExecutionContext) {
    return reviewText(String(action.params.text ?? ''), config.review, secrets.scanner);
  };
}
