import type { Action } from '../../contract/action.js';
import type { CompiledPolicy } from '../../policy/compile.js';
import type { Guard, GuardFinding } from '../guard.js';
import { type FsScope, type Location, locate } from './fs-paths.js';

/**
 * The file guard (`fs.*`). Validation and permissions have already checked the path lexically;
 * this guard adds what only the filesystem knows. In order: NUL bytes and encoded dots/slashes
 * are refused; the path is made absolute (relative to the first root) and must lie inside
 * `fs.roots`; symlinks are resolved (the longest existing prefix, so a symlinked parent counts)
 * and the real location must still be inside the roots and the agent's path grants; no segment
 * may match a protected name (case-insensitive), before or after resolution; a read of a file
 * with more than one name (a hard link) is refused unless `fs.hardLinks: allow`; writes are
 * capped; deletes are raised to critical so that they need explicit approval.
 *
 * The executor (`fs-executor.ts`) checks the same things again on what it actually opens, so a
 * symlink or hard link swapped in after this check is refused there.
 */
export function fsGuard(scope: FsScope, policy: CompiledPolicy): Guard {
  const { maxWriteBytes, deleteApproval } = scope.policy;
  return {
    name: 'fs',
    appliesTo: (type) => type.startsWith('fs.'),
    inspect: function fsGuardInspect(action: Action): GuardFinding[] {
      const raw = action.params.path;
      if (typeof raw !== 'string') return [deny('fs.invalid-path', 'the action has no string `params.path`')];
      const path = scope.absolute(raw);
      if (typeof path !== 'string') return [deny(path.code, path.message)];
      if (scope.roots.length > 0 && !scope.rootOf(path))
        return [
          deny('fs.outside-root', `path \`${path}\` is outside \`fs.roots\` (${scope.roots.join(', ')})`),
        ];
      const guarded = scope.protectedBy(path);
      if (guarded)
        return [
          deny(
            'fs.protected',
            `path \`${path}\` is protected (\`${guarded}\` in \`${scope.sectionOf(guarded)}\`)`,
          ),
        ];
      let where: Location;
      try {
        where = locate(path);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code ?? 'error';
        return [deny('fs.unresolvable', `path \`${path}\` cannot be resolved (${code}); it is refused`)];
      }
      // `path` passed the protected check above: the real location is checked only if it differs.
      const problem = scope.realProblem(policy.agents.get(action.agent), path, where.real, path);
      if (problem) return [deny(problem.code, problem.message)];
      if (action.type === 'fs.read') {
        // The stat resolution already made: no extra syscall. The executor checks again on its fd.
        const linked = scope.hardLinkProblem(path, where.stat);
        if (linked) return [deny(linked.code, linked.message)];
      }
      const findings: GuardFinding[] = [];
      if (action.type === 'fs.write') {
        const bytes = Buffer.byteLength(String(action.params.content ?? ''));
        if (bytes > maxWriteBytes)
          return [
            deny(
              'fs.too-large',
              `the content is ${bytes} bytes; \`fs.maxWriteBytes\` allows ${maxWriteBytes}`,
            ),
          ];
      }
      if (action.type === 'fs.delete' && deleteApproval)
        findings.push({
          effect: 'raise',
          risk: 'critical',
          code: 'fs.delete-approval',
          message: `deleting \`${path}\` needs explicit approval (\`fs.deleteApproval\`)`,
        });
      return findings;
    },
  };
}

function deny(code: string, message: string): GuardFinding {
  return { effect: 'deny', code, message };
}
