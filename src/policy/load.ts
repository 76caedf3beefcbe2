import { readFileSync } from 'node:fs';
import { type Document, isNode, LineCounter, parseDocument, visit } from 'yaml';
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
  let doc: Document.Parsed;
  try {
    doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false });
  } catch (error) {
    // The parser recurses: a document nested thousands of levels deep exhausts the stack.
    throw new PolicyError([{ file, field: '', message: unreadable(error) }]);
  }
  if (doc.errors.length > 0) {
    const issues: PolicyIssue[] = doc.errors.slice(0, MAX_YAML_ERRORS).map((e) => {
      const pos = e.linePos?.[0] ?? lineCounter.linePos(e.pos[0]);
      const reason = /call stack/i.test(e.message) ? 'it is nested too deeply' : e.message.split('\n')[0];
      return {
        file,
        ...(pos ? { line: pos.line, column: pos.col } : {}),
        field: '',
        message: `not valid YAML: ${reason}`,
      };
    });
    const more = doc.errors.length - MAX_YAML_ERRORS;
    if (more > 0) issues.push({ file, field: '', message: `and ${more} more YAML errors after these` });
    throw new PolicyError(issues);
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
  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (error) {
    if (error instanceof ReferenceError && /alias/i.test(error.message)) {
      const pos = firstAlias(doc, lineCounter);
      throw new PolicyError([
        {
          file,
          ...(pos ? { line: pos.line, column: pos.col } : {}),
          field: '',
          message: `too many aliases: expanding them would grow the policy exponentially (more than ${MAX_ALIAS_COUNT} nodes copied through \`*alias\` references); write the values out or use fewer aliases`,
        },
      ]);
    }
    throw new PolicyError([{ file, field: '', message: unreadable(error) }]);
  }
  if (raw === null || raw === undefined) {
    throw new PolicyError([
      {
        file,
        field: '',
        message:
          'the policy is empty: define at least one agent under `agents` (see docs/policy.md); with no agents every action is denied',
      },
    ]);
  }
  return validate(raw, file, locate);
}

/**
 * How many nodes aliases may copy in all (the `yaml` package's `maxAliasCount`): enough for any
 * real policy, far below what a "billion laughs" file (aliases of aliases) would expand to.
 */
const MAX_ALIAS_COUNT = 100;
/** YAML errors listed; a broken file can cascade into thousands, the first ones say what to fix. */
const MAX_YAML_ERRORS = 10;

function firstAlias(doc: Document.Parsed, lineCounter: LineCounter) {
  let at: number | undefined;
  visit(doc, {
    Alias(_, node) {
      at = node.range?.[0];
      return visit.BREAK;
    },
  });
  return at === undefined ? undefined : lineCounter.linePos(at);
}

function unreadable(error: unknown): string {
  const reason = error instanceof RangeError ? 'it is nested too deeply' : (error as Error).message;
  return `cannot read the policy: ${lowerFirst(String(reason).split('\n')[0] ?? '')}; simplify the file`;
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
    const pos = locate([]);
    throw new PolicyError([
      {
        file,
        ...(pos ? { line: pos.line, column: pos.col } : {}),
        field: '',
        message: 'expected a mapping with sections such as `agents` and `rules`',
      },
    ]);
  }
  // Parsed once per load: zod's compiled fast path (code generated per object schema) would cost
  // more to generate than it saves, and the policy's load is on `warden mcp`'s start.
  const parsed = PolicySchema.safeParse(raw, { reportInput: true, jitless: true });
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
