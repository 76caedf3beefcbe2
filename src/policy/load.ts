import { readFileSync } from 'node:fs';
import { isNode, LineCounter, parseDocument } from 'yaml';
import type { z } from 'zod';
import { type CompiledPolicy, compilePolicy } from './compile.js';
import { describeIssue, fieldPath, lowerFirst, PolicyError, type PolicyIssue } from './policy-error.js';
import { type PolicyConfig, type PolicyInput, PolicySchema } from './schema.js';

type Locate = (path: readonly PropertyKey[]) => { line: number; col: number } | undefined;

/** Loads and compiles a policy file (YAML or JSON). Throws `PolicyError` naming file, line and field. */
export function loadPolicyFile(file: string): CompiledPolicy {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const what = code === 'ENOENT' ? 'no such file' : `cannot read it (${code ?? String(error)})`;
    throw new PolicyError([
      { file, field: '', message: `${what}; pass an existing policy file with --policy` },
    ]);
  }
  return parsePolicyText(text, file);
}

/** Parses policy text. JSON is parsed by the same YAML parser (JSON is YAML 1.2), so lines are kept. */
export function parsePolicyText(text: string, file = '<policy>'): CompiledPolicy {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false });
  if (doc.errors.length > 0) {
    throw new PolicyError(
      doc.errors.map((e) => {
        const pos = e.linePos?.[0] ?? lineCounter.linePos(e.pos[0]);
        return {
          file,
          ...(pos ? { line: pos.line, column: pos.col } : {}),
          field: '',
          message: `not valid YAML: ${e.message.split('\n')[0]}`,
        };
      }),
    );
  }
  const locate: Locate = (path) => {
    for (let n = path.length; n >= 0; n--) {
      const node = doc.getIn(path.slice(0, n) as unknown[], true);
      if (isNode(node) && node.range) {
        // A missing field is reported at its parent; a present one at itself.
        return lineCounter.linePos(node.range[0]);
      }
    }
    return undefined;
  };
  const raw: unknown = doc.toJS() ?? {};
  return validate(raw, file, locate);
}

/** Compiles a policy given as an object (the TypeScript form). */
export function policyFromObject(
  input: PolicyInput | PolicyConfig,
  name = '<policy object>',
): CompiledPolicy {
  return validate(input, name, () => undefined);
}

function validate(raw: unknown, file: string, locate: Locate): CompiledPolicy {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new PolicyError([
      { file, field: '', message: 'expected a mapping with sections such as `agents` and `rules`' },
    ]);
  }
  const parsed = PolicySchema.safeParse(raw, { reportInput: true });
  if (!parsed.success) throw new PolicyError(parsed.error.issues.map((i) => toIssue(i, file, locate)));
  return compilePolicy(parsed.data, file, (path, message) => {
    const pos = locate(path);
    return { file, ...(pos ? { line: pos.line, column: pos.col } : {}), field: fieldPath(path), message };
  });
}

function toIssue(issue: z.core.$ZodIssue, file: string, locate: Locate): PolicyIssue {
  let path: PropertyKey[] = [...issue.path];
  let message = issue.message;
  if (issue.code === 'unrecognized_keys') {
    const key = issue.keys[0] ?? '';
    path = [...path, key];
    message = `unknown field \`${key}\`; check the spelling against docs/policy.md`;
  } else if (issue.code === 'invalid_union') {
    message = `${lowerFirst(message)}; see docs/policy.md for the accepted forms`;
  } else {
    message = describeIssue(issue);
  }
  const pos = locate(path);
  return { file, ...(pos ? { line: pos.line, column: pos.col } : {}), field: fieldPath(path), message };
}
