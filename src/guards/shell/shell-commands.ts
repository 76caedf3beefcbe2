import type { Word } from './shell-words.js';

/**
 * What the guard knows about particular commands: interpreters and how they take inline code,
 * wrappers that run another command (checked as that command), builtins that evaluate strings.
 */

/** Programs that run code they are given: a script file, inline code, or standard input. */
export const INTERPRETER =
  /^(sh|bash|dash|zsh|ksh|mksh|yash|fish|csh|tcsh|busybox|python[0-9.]*|pypy[0-9.]*|node|nodejs|deno|bun|perl[0-9.]*|ruby[0-9.]*|php[0-9.]*|lua[0-9.]*|luajit|Rscript|tclsh[0-9.]*|wish|osascript|pwsh|powershell|awk|gawk|mawk|nawk|busybox|expect|julia|groovy|jshell|irb|scala)$/;

/** Builtins that evaluate a string or file as shell code, or change what a name means. */
export const EVALUATING_BUILTINS: Readonly<Record<string, string>> = {
  eval: 'evaluates its arguments as shell code',
  exec: 'replaces the shell with another program or rewires its descriptors',
  source: 'runs a file as shell code',
  '.': 'runs a file as shell code',
  trap: 'runs a string as shell code on a signal',
  fc: 're-runs commands from the history',
  bind: 'binds keys to shell code',
  complete: 'runs shell code for completion',
  compgen: 'can run shell code for completion',
  coproc: 'runs a command as a coprocess',
  alias: 'changes what a command name means',
  unalias: 'changes what a command name means',
  enable: 'changes which builtins exist',
  hash: 'maps a command name to another program (`hash -p`)',
  builtin: 'runs a builtin by name',
  pushd: 'changes the directory in a way the guard does not follow',
  popd: 'changes the directory in a way the guard does not follow',
  let: 'evaluates arithmetic, which can run code through array subscripts',
  read: 'assigns variables from input the guard cannot see',
  mapfile: 'assigns variables from input and can run a callback',
  readarray: 'assigns variables from input and can run a callback',
  getopts: 'assigns variables from arguments',
};

const flagCluster = (arg: string, letters: string) =>
  /^-[A-Za-z]+$/.test(arg) && [...letters].some((l) => arg.slice(1).includes(l));

/** The inline-code flag an interpreter invocation uses (`sh -c`, `python -c`, `node -e` …), if any. */
export function inlineCodeFlag(name: string, args: readonly Word[]): string | undefined {
  const values = args.map((a) => a.value ?? '');
  const base = name.replace(/[0-9.]+$/, '');
  for (const [i, arg] of values.entries()) {
    if (arg === '--') break;
    if (!arg.startsWith('-')) {
      if (base === 'deno' && i === 0 && arg === 'eval') return 'deno eval';
      if (base === 'busybox') return `busybox ${arg}`;
      // Options end at the script operand for these.
      if (
        /^(sh|bash|dash|zsh|ksh|mksh|yash|fish|csh|tcsh|python|pypy|perl|ruby|php|lua|node|nodejs|bun)$/.test(
          base,
        )
      )
        break;
      continue;
    }
    switch (base) {
      case 'sh':
      case 'bash':
      case 'dash':
      case 'zsh':
      case 'ksh':
      case 'mksh':
      case 'yash':
      case 'fish':
      case 'csh':
      case 'tcsh':
      case 'python':
      case 'pypy':
      case 'expect':
        if (flagCluster(arg, 'c') || arg === '--command' || arg.startsWith('--command=')) return arg;
        break;
      case 'node':
      case 'nodejs':
      case 'bun':
        if (['-e', '-p', '-pe', '--eval', '--print'].includes(arg) || /^--(eval|print)=/.test(arg))
          return arg;
        break;
      case 'perl':
      case 'ruby':
        if (flagCluster(arg, 'eE')) return arg;
        break;
      case 'php':
        if (['-r', '-B', '-R', '-F', '-E'].includes(arg)) return arg;
        break;
      case 'pwsh':
      case 'powershell':
        if (/^-(c|command|e|ec|encodedcommand)$/i.test(arg)) return arg;
        break;
      default:
        if (['-e', '-E', '--eval'].includes(arg)) return arg;
    }
  }
  return undefined;
}

/**
 * The script an interpreter runs from a file, `stdin` when it reads its program from standard
 * input, or `none` when it runs a module or has inline code (checked elsewhere).
 */
export function scriptOperand(name: string, args: readonly Word[]): Word | 'stdin' | 'none' {
  const base = name.replace(/[0-9.]+$/, '');
  if (/^(awk|gawk|mawk|nawk)$/.test(base)) return 'none';
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as Word;
    const v = arg.value;
    if (v === undefined) return arg;
    if (v === '-s' && /sh$/.test(base)) return 'stdin';
    // Print and exit without reading a program.
    if (/^(--version|--help|-V|-h)$/.test(v) || (v === '-v' && /^(node|nodejs|deno|bun)$/.test(base)))
      return 'none';
    if (v === '-m' || v.startsWith('-m') || v === '--module') return 'none';
    if (v === '--') return (args[i + 1] as Word | undefined) ?? 'stdin';
    if (v === '-') return 'stdin';
    if (v.startsWith('-')) {
      // Options that take a value: skip it.
      if (/^-(W|X|I|M|r|o|O|f)$/.test(v) && base !== 'bash' && base !== 'sh') i++;
      continue;
    }
    if (/^\/dev\/(stdin|fd\/0)$|^\/proc\/self\/fd\/0$/.test(v)) return 'stdin';
    return arg;
  }
  return 'stdin';
}

/** awk's program, which is code: refuse the parts that reach the system. */
export function awkProblem(args: readonly Word[]): string | undefined {
  let programIndex = -1;
  for (let i = 0; i < args.length; i++) {
    const v = args[i]?.value;
    if (v === undefined) return 'its program is only known at run time';
    if (v === '-f' || v.startsWith('--file')) return undefined; // a program file: checked as a path
    if (v === '-v' || v === '-F') {
      i++;
      continue;
    }
    if (v.startsWith('-')) continue;
    programIndex = i;
    break;
  }
  const program = programIndex >= 0 ? (args[programIndex]?.value ?? '') : '';
  if (/\bsystem\s*\(|\|\s*(getline|&)|"\s*\||\|\s*"|\bprint[f]?\b[^;}]*>\s*"|getline\s*</.test(program))
    return 'its program runs commands or writes files (`system()`, pipes, `print > "file"`)';
  return undefined;
}

export interface Unwrapped {
  name: Word;
  args: Word[];
  /** Assignments the wrapper makes for the command (`env X=1 cmd`). */
  assignments: string[];
  /** Appended arguments only known at run time (`xargs`, `find -exec … {}`). */
  dynamicTail: boolean;
}

const DYNAMIC: Word = { text: '{}', dynamic: true, expands: false, ansiC: false };

/**
 * The command a wrapper runs: `env [-i] [-u N] [X=1] cmd`, `time`, `nice`, `nohup`, `timeout`,
 * `stdbuf`, `command`, `xargs`, `ionice`, `setsid`. Returns a string problem for forms that
 * cannot be followed (`env -S`, `env -C`), or undefined when it is not a wrapper (or wraps
 * nothing, e.g. `env` alone).
 */
export function unwrap(name: string, args: readonly Word[]): Unwrapped | string | undefined {
  const takesValue: Record<string, RegExp> = {
    env: /^-(u|-unset)$/,
    time: /^-(f|o|-format|-output)$/,
    nice: /^-(n|-adjustment)$/,
    timeout: /^-(s|k|-signal|-kill-after)$/,
    stdbuf: /^-(i|o|e)$/,
    ionice: /^-(c|n|p|-class|-classdata)$/,
    xargs: /^-(I|L|n|P|s|d|E|a|-max-args|-max-procs|-delimiter|-arg-file)$/,
    command: /^$/,
    nohup: /^$/,
    setsid: /^$/,
  };
  const pattern = takesValue[name];
  if (!pattern) return undefined;
  const assignments: string[] = [];
  let i = 0;
  for (; i < args.length; i++) {
    const arg = args[i] as Word;
    const v = arg.value;
    if (v === undefined) return `\`${name}\` runs a command that is only known at run time`;
    if (v === '--') {
      i++;
      break;
    }
    if (name === 'env' && /^(-S|--split-string|-C|--chdir)/.test(v))
      return `\`env ${v}\` runs a command the guard cannot follow`;
    if ((name === 'time' && /^-(o|-output)/.test(v)) || (name === 'xargs' && /^-(a|-arg-file)/.test(v)))
      return `\`${name} ${v}\` reads or writes a file the guard does not check`;
    if (name === 'command' && /^-[vV]$/.test(v)) return undefined; // `command -v x` only looks x up
    if (v.startsWith('-') && v !== '-') {
      if (pattern.test(v)) i++;
      continue;
    }
    if (name === 'env' && /^[A-Za-z_][A-Za-z0-9_]*=/.test(v)) {
      assignments.push(v.slice(0, v.indexOf('=')));
      continue;
    }
    if (name === 'timeout' && /^\d/.test(v) && i === firstOperand(args, pattern)) continue;
    break;
  }
  const inner = args[i];
  if (!inner) return undefined;
  const rest = args.slice(i + 1);
  const dynamicTail = name === 'xargs';
  return { name: inner, args: dynamicTail ? [...rest, DYNAMIC] : [...rest], assignments, dynamicTail };
}

function firstOperand(args: readonly Word[], pattern: RegExp): number {
  for (let i = 0; i < args.length; i++) {
    const v = args[i]?.value ?? '';
    if (v.startsWith('-')) {
      if (pattern.test(v)) i++;
      continue;
    }
    return i;
  }
  return -1;
}

/** The commands `find` runs through `-exec`, `-execdir`, `-ok`, `-okdir`, with `{}` unknown. */
export function findExecs(args: readonly Word[]): { name: Word; args: Word[] }[] | string {
  const out: { name: Word; args: Word[] }[] = [];
  for (let i = 0; i < args.length; i++) {
    const v = args[i]?.value;
    if (v === undefined) continue;
    if (/^-(fprint|fprint0|fprintf|fls)$/.test(v))
      return `\`find ${v}\` writes a file the guard does not check`;
    if (!/^-(exec|execdir|ok|okdir)$/.test(v)) continue;
    const name = args[i + 1];
    if (!name) return `\`find ${v}\` has no command`;
    const inner: Word[] = [];
    let j = i + 2;
    for (; j < args.length; j++) {
      const a = args[j] as Word;
      if (a.value === ';' || a.value === '+') break;
      inner.push(a.value?.includes('{}') ? DYNAMIC : a);
    }
    out.push({ name, args: inner });
    i = j;
  }
  return out;
}
