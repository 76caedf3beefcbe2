// One file because ShellCheck keeps one decision's state (cwds, functions, first problem) all checks share.
// biome-ignore-all lint/correctness/noVoidTypeReturn: `return this.problem(…)` ends a check where the first problem is found
import { posix } from 'node:path';
import type { Action } from '../../contract/action.js';
import { compileNamePatterns, type NameMatcher } from '../../lib/glob.js';
import { compileLinearRegex } from '../../lib/linear-regex.js';
import type { CompiledPolicy, ResourceMatcher } from '../../policy/compile.js';
import type { ShellCommandEntry, ShellPolicy } from '../../policy/sections/shell.js';
import { FsScope } from '../fs/fs-paths.js';
import type { Guard, GuardFinding } from '../guard.js';
import {
  awkProblem,
  EVALUATING_BUILTINS,
  findExecs,
  INTERPRETER,
  inlineCodeFlag,
  scriptOperand,
  unwrap,
} from './shell-commands.js';
import { parseShell } from './shell-parser.js';
import { fileOperands, isRecursive, literalPrefix, ProtectedNames, TREE_LIMIT } from './shell-protected.js';
import {
  type Placement,
  type Redirect,
  type ShellVisitor,
  type SimpleCommand,
  walkShell,
} from './shell-walk.js';
import { expandBraces, type Word } from './shell-words.js';

/** The `shell` section compiled at load. */
export interface CompiledShell {
  readonly commands: ReadonlyMap<string, CompiledEntry>;
  readonly denied: NameMatcher;
  readonly builtins: ReadonlySet<string>;
  readonly sensitive: NameMatcher;
  readonly cwd: string;
}

interface CompiledEntry extends ShellCommandEntry {
  /** Whether the joined arguments match one of `args`; absent: any arguments. */
  argsMatch?: (joined: string) => boolean;
}

// An argument only known at run time, in the joined argument string: matched only by `*`.
const UNKNOWN = '\u0000';

export function compileShell(config: ShellPolicy): CompiledShell {
  const commands = new Map<string, CompiledEntry>();
  for (const [name, raw] of Object.entries(config.commands)) {
    const entry: CompiledEntry = raw === true ? { paths: false, allowCode: false } : { ...raw };
    if (raw !== true && raw.args) {
      const re = compileLinearRegex(
        `^(?:${raw.args.map((p) => p.split('*').map(escapeRegex).join('[\\s\\S]*')).join('|')})$`,
      );
      entry.argsMatch = (joined) => re.test(joined);
    }
    commands.set(name, entry);
  }
  return {
    commands,
    denied: compileNamePatterns(config.deny),
    builtins: new Set(config.builtins),
    sensitive: compileNamePatterns(config.sensitiveVariables),
    cwd: posix.normalize(config.cwd),
  };
}

const escapeRegex = (s: string) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&');

/** Files every command may write to or read from through a redirection. */
const DEVICES = new Set([
  '/dev/null',
  '/dev/stdout',
  '/dev/stderr',
  '/dev/stdin',
  '/dev/fd/1',
  '/dev/fd/2',
  '/dev/tty',
]);

/**
 * The shell guard (`shell.exec`): parses the command with tree-sitter's bash grammar and checks
 * every simple command wherever it sits (pipelines, lists, subshells, substitutions, here-docs,
 * loops, functions) against the `shell` section: the allowlist and its argument patterns, the
 * denylist, interpreters and `eval`-like builtins, writes through redirection, path arguments
 * against the agent's `resources.paths`, and assignments to variables such as `PATH`. `argv`
 * actions are checked the same way, as one command. Anything it cannot account for is denied.
 */
export function createShellGuard(
  shell: CompiledShell,
  policy: CompiledPolicy,
  scope: FsScope = new FsScope(policy.config.fs),
): Guard {
  const names = new ProtectedNames(scope);
  return {
    name: 'shell',
    appliesTo: (type) => type === 'shell.exec',
    inspect: function shellGuard(action: Action): GuardFinding[] {
      const roots = policy.agents.get(action.agent)?.paths;
      const check = new ShellCheck(shell, roots, names);
      const argv = action.params.argv;
      if (Array.isArray(argv)) {
        const words = argv.map((a) => literal(String(a)));
        check.command({
          name: words[0] as Word,
          args: words.slice(1),
          placement: { stdinFed: false, inLoop: false, inFunction: false, conditional: false },
          text: argv.join(' '),
        });
      } else {
        const tree = parseShell(String(action.params.command));
        try {
          walkShell(tree, check);
        } finally {
          tree.delete();
        }
      }
      return check.finding ? [check.finding] : [];
    },
  };
}

function literal(text: string): Word {
  return { text, value: text, dynamic: false, expands: false, ansiC: false };
}

/** One decision's state: the first problem found, the possible working directories, functions defined. */
class ShellCheck implements ShellVisitor {
  finding: GuardFinding | undefined;
  private cwds: Set<string>;
  private readonly saved: Set<string>[] = [];
  private readonly functions = new Set<string>();

  constructor(
    private readonly shell: CompiledShell,
    private readonly roots: ResourceMatcher | undefined,
    private readonly names: ProtectedNames,
  ) {
    this.cwds = new Set([shell.cwd]);
  }

  problem(code: string, message: string) {
    this.finding ??= { effect: 'deny', code, message };
  }

  enterSubshell() {
    this.saved.push(new Set(this.cwds));
  }

  leaveSubshell() {
    this.cwds = this.saved.pop() ?? this.cwds;
  }

  functionDefinition(name: Word) {
    const n = name.value;
    if (n === undefined)
      return this.problem('shell.dynamic-command', `function name \`${name.text}\` is not static`);
    if (
      this.shell.commands.has(n) ||
      this.shell.builtins.has(n) ||
      EVALUATING_BUILTINS[n] ||
      n === 'command_not_found_handle'
    )
      return this.problem(
        'shell.shadowing',
        `defining a function \`${n}\` would change what \`${n}\` means for the rest of the command`,
      );
    this.functions.add(n);
  }

  assignment(name: string, value: Word | undefined, how: string, _at: Placement) {
    if (this.shell.sensitive(name) || this.shell.sensitive(name.toUpperCase()))
      return this.problem(
        'shell.sensitive-variable',
        `${how === 'for' ? 'a loop over' : how === 'unset' ? 'unsetting' : 'assigning'} \`${name}\` changes what later commands run (shell.sensitiveVariables); it is denied`,
      );
    if (value?.value !== undefined && /\$\(|`|\$\{|\$\[/.test(value.value))
      this.problem(
        'shell.unaccounted',
        `\`${name}\` is set to text that looks like shell code (\`${value.value.slice(0, 40)}\`); it could run later through arithmetic or eval`,
      );
  }

  redirect(redirect: Redirect, _at: Placement) {
    const { op, target } = redirect;
    const what = op === '<' ? 'reads' : 'writes';
    const path = target.value;
    if (path === undefined || target.expands)
      return this.problem(
        'shell.redirect-outside',
        `\`${op} ${target.text}\` ${what} a file only known at run time; write to a literal path inside the allowed roots`,
      );
    if (DEVICES.has(path)) return;
    for (const cwd of this.cwds) {
      const hit = this.names.named(posix.resolve(cwd, path), false);
      if (hit)
        return this.problem(
          'shell.protected',
          `\`${op} ${target.text}\` ${what} a protected file (\`${hit}\` in \`${this.names.sectionOf(hit)}\`)`,
        );
    }
    const outside = this.outside(path, target.expands);
    if (outside)
      this.problem(
        'shell.redirect-outside',
        `\`${op} ${target.text}\` ${what} \`${outside}\`, outside the agent's allowed paths`,
      );
  }

  command(cmd: SimpleCommand, depth = 0): void {
    if (this.finding) return;
    const { name, args, placement } = cmd;
    const n = name.value;
    if (n === undefined || name.expands || name.ansiC || n === '') {
      const why = name.ansiC
        ? 'is spelled with ANSI-C quoting'
        : name.expands
          ? 'is expanded by globbing, braces or `~`'
          : 'comes from an expansion';
      return this.problem(
        'shell.dynamic-command',
        `the command name \`${name.text}\` ${why}, so what runs is not known until run time`,
      );
    }
    if (this.functions.has(n)) return; // its body was checked where it was defined
    const base = n.includes('/') ? posix.basename(n) : n;
    if (this.shell.denied(n) || this.shell.denied(base))
      return this.problem('shell.denied-command', `\`${n}\` is denied by \`shell.deny\``);
    const entry = this.shell.commands.get(n);

    const wrapped = unwrap(n, args);
    if (typeof wrapped === 'string') return this.problem('shell.unaccounted', wrapped);
    if (wrapped && depth < 8) {
      for (const v of wrapped.assignments) this.assignment(v, undefined, 'assignment', placement);
      return this.command({ ...cmd, name: wrapped.name, args: wrapped.args }, depth + 1);
    }

    const evaluating = EVALUATING_BUILTINS[n];
    if (evaluating) {
      if (!entry)
        return this.problem(
          n === 'alias' || n === 'unalias' || n === 'enable' || n === 'hash'
            ? 'shell.shadowing'
            : 'shell.eval',
          `\`${n}\` ${evaluating}; it is denied unless listed in \`shell.commands\``,
        );
      if ((n === 'eval' || n === 'trap') && !entry.allowCode)
        return this.problem(
          'shell.eval',
          `\`${n}\` ${evaluating}; list it with \`allowCode: true\` to permit it`,
        );
      if (n === 'read' || n === 'mapfile' || n === 'readarray' || n === 'getopts') {
        // Their operands are variable names (getopts: after the option string).
        const names = args.filter((a) => !a.value?.startsWith('-')).slice(n === 'getopts' ? 1 : 0);
        for (const v of names) this.assignment(v.value ?? v.text, undefined, 'assignment', placement);
      }
      if (n === 'source' || n === '.') {
        const file = args[0];
        if (!file?.value) return this.problem('shell.eval', `\`${n}\` of a file only known at run time`);
        const outside = this.outside(file.value);
        if (outside)
          return this.problem(
            'shell.path-outside',
            `\`${n}\` runs \`${outside}\`, outside the agent's allowed paths`,
          );
      }
    }

    if (INTERPRETER.test(base)) {
      if (!entry)
        return this.problem(
          'shell.not-allowed',
          `\`${n}\` is an interpreter and is not listed in \`shell.commands\`; it could run any code`,
        );
      if (!entry.allowCode) {
        const flag = inlineCodeFlag(base, args);
        if (flag)
          return this.problem(
            'shell.inline-code',
            `\`${n} ${flag}\` runs inline code; list \`${n}\` with \`allowCode: true\` to permit it`,
          );
        if (/^[gmn]?awk$/.test(base)) {
          const awk = awkProblem(args);
          if (awk) return this.problem('shell.inline-code', `\`${n}\`: ${awk}`);
        }
        const script = scriptOperand(base, args);
        // With no script it reads its program from standard input: whatever feeds it (a pipe, a
        // here-doc, a redirect, or the executor) decides what runs.
        if (script === 'stdin')
          return this.problem(
            'shell.piped-interpreter',
            placement.stdinFed
              ? `\`${n}\` would run code fed to it on standard input (\`… | ${n}\`, a here-doc or a redirect)`
              : `\`${n}\` without a script reads its program from standard input; give it a script file`,
          );
        if (typeof script === 'object') {
          if (script.value === undefined || script.expands)
            return this.problem(
              'shell.inline-code',
              `\`${n}\` runs a script only known at run time (\`${script.text}\`)`,
            );
          const outside = this.outside(script.value);
          if (outside)
            return this.problem(
              'shell.path-outside',
              `\`${n}\` runs \`${outside}\`, outside the agent's allowed paths`,
            );
        }
      }
    }

    if (!entry) {
      if (this.shell.builtins.has(n) && !evaluating) return this.builtin(n, args, placement);
      return this.problem(
        'shell.not-allowed',
        `\`${n}\` is not in \`shell.commands\`${n.includes('/') ? ' (a command given by path must be listed by that path)' : ''}`,
      );
    }

    if (entry.argsMatch) {
      const joined = args.map((a) => (a.value === undefined ? UNKNOWN : a.value)).join(' ');
      if (!entry.argsMatch(joined))
        return this.problem(
          'shell.args-not-allowed',
          `\`${cmd.text.slice(0, 80)}\`: the arguments of \`${n}\` match none of ${entry.args?.map((p) => `\`${p}\``).join(', ')}`,
        );
    }
    if (entry.paths) this.pathOperands(n, args);
    if (base === 'find') {
      const execs = findExecs(args);
      if (typeof execs === 'string') return this.problem('shell.unaccounted', execs);
      for (const inner of execs) this.command({ ...cmd, name: inner.name, args: inner.args }, depth + 1);
    }
    if (base === 'tee') this.teeTargets(args);
    this.protectedOperands(n, base, args);
  }

  /** Builtins allowed without listing: `cd` moves the tracked directory; others assign variables. */
  private builtin(n: string, args: readonly Word[], placement: Placement) {
    if (n === 'cd') return this.cd(args, placement);
    if (n === 'printf') {
      const i = args.findIndex((a) => a.value === '-v');
      const target = i >= 0 ? args[i + 1]?.value : undefined;
      if (target) this.assignment(target, undefined, 'assignment', placement);
    }
    if (['declare', 'typeset', 'local', 'export', 'readonly'].includes(n)) {
      const opts = args.filter((a) => a.value?.startsWith('-')).map((a) => a.value ?? '');
      if (opts.some((o) => /n/.test(o.slice(1))))
        this.problem(
          'shell.unaccounted',
          `\`${n} -n\` makes a name refer to another variable; the guard cannot follow it`,
        );
    }
  }

  private cd(args: readonly Word[], placement: Placement) {
    const operands = args.filter((a) => a.value === undefined || !/^-[LPe@]+$/.test(a.value));
    const target = operands[0];
    if (
      !target ||
      target.value === undefined ||
      target.expands ||
      target.value === '-' ||
      operands.length > 1
    )
      return this.problem(
        'shell.unaccounted',
        '`cd` without one literal directory (home, `-`, an expansion) goes where the guard cannot follow',
      );
    if (placement.inLoop || placement.inFunction)
      return this.problem(
        'shell.unaccounted',
        '`cd` inside a loop or a function may run any number of times; the guard cannot follow it',
      );
    const next = new Set<string>();
    for (const cwd of this.cwds) {
      const dir = posix.resolve(cwd, target.value);
      if (!this.inside(dir))
        return this.problem(
          'shell.path-outside',
          `\`cd ${target.text}\` leaves the agent's allowed paths (\`${dir}\`)`,
        );
      next.add(dir);
    }
    // A `cd` that may not run leaves both directories possible; relative paths must pass in each.
    this.cwds = placement.conditional ? new Set([...this.cwds, ...next]) : next;
  }

  private pathOperands(n: string, args: readonly Word[]) {
    let options = true;
    for (const arg of args) {
      const v = arg.value;
      if (options && v === '--') {
        options = false;
        continue;
      }
      let path: string | undefined = v;
      if (v !== undefined && options && v.startsWith('-')) {
        // `--file=/etc/x`: an option's value that looks like a path is a path too.
        const eq = v.indexOf('=');
        path = eq > 0 && /^[/~.]/.test(v.slice(eq + 1)) ? v.slice(eq + 1) : undefined;
        if (path === undefined) continue;
      }
      if (path === undefined)
        return this.problem(
          'shell.path-outside',
          `\`${n}\` is given a path only known at run time (\`${arg.text}\`)`,
        );
      const outside = this.outside(path, arg.expands);
      if (outside)
        return this.problem(
          'shell.path-outside',
          `\`${n}\` is given \`${outside}\`, outside the agent's allowed paths`,
        );
    }
  }

  /**
   * The file guard's protected names, applied to every file operand of an allowed command: a
   * literal path, a glob that can expand to a protected name, and, for a command that walks a
   * tree (`grep -r`, `find`, `cp -r`, `tar` …), any protected file in that tree.
   */
  private protectedOperands(n: string, base: string, args: readonly Word[]) {
    const operands = fileOperands(base, args);
    const recursive = isRecursive(base, args);
    if (recursive && operands.length === 0) operands.push(literal('.'));
    for (const arg of operands) {
      const v = arg.value;
      if (v === undefined) continue; // only known at run time: the path checks decide
      const words = arg.expands && /[{}]/.test(v) ? (expandBraces(v) ?? [v]) : [v];
      for (const word of words)
        for (const cwd of this.cwds) {
          const full = posix.resolve(cwd, word);
          const hit = this.names.named(full, arg.expands);
          if (hit)
            return this.problem(
              'shell.protected',
              `\`${n}\` is given \`${arg.text}\`, which ${arg.expands ? 'can expand to' : 'names'} a protected file (\`${hit}\` in \`${this.names.sectionOf(hit)}\`)`,
            );
          if (!recursive) continue;
          const dir = arg.expands ? literalPrefix(full) : full;
          const found = this.names.inTree(dir);
          if (found === 'too-large')
            return this.problem(
              'shell.protected',
              `\`${n}\` walks \`${dir}\`, which holds more than ${TREE_LIMIT} entries, too many to make sure none is protected; name a smaller directory`,
            );
          if (found)
            return this.problem(
              'shell.protected',
              `\`${n}\` walks \`${dir}\`, which contains the protected file \`${found}\`; name a directory without protected files`,
            );
        }
    }
  }

  private teeTargets(args: readonly Word[]) {
    for (const arg of args) {
      if (arg.value?.startsWith('-')) continue;
      this.redirect(
        { op: 'tee', target: arg },
        { stdinFed: true, inLoop: false, inFunction: false, conditional: false },
      );
    }
  }

  /** The resolved path when it is outside the agent's roots (or cannot be known), else undefined. */
  private outside(path: string, expands = false): string | undefined {
    if (path.startsWith('~')) return path;
    if (expands && /[{}]/.test(path)) {
      // Each word brace expansion makes must pass (`src/{..,x}/..` is `src/../..` too).
      const words = expandBraces(path);
      if (!words) return path;
      if (words.length > 1 || words[0] !== path) {
        for (const word of words) {
          const out = this.outside(word, true);
          if (out) return out;
        }
        return undefined;
      }
    }
    // A glob beside `..` can match `..` itself (`.*`): the text no longer says where it ends up.
    if (expands && /(^|\/)\.\.(\/|$)/.test(path) && /[*?[]/.test(path)) return path;
    for (const cwd of this.cwds) {
      const full = posix.resolve(cwd, path);
      if (!this.inside(full)) return full;
    }
    return undefined;
  }

  private inside(full: string): boolean {
    if (!this.roots) return false;
    return !this.roots.denies(full) && (this.roots.allows(full) || this.roots.allows(`${full}/`));
  }
}
