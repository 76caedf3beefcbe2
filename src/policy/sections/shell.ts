import { z } from 'zod';

/**
 * The policy's `shell` section: which commands `shell.exec` may run and with which arguments.
 * Everything not listed is denied. Paths are checked against the agent's `resources.paths`.
 */

const CommandEntrySchema = z
  .object({
    args: z
      .array(z.string())
      .optional()
      .describe(
        'patterns over the arguments joined by single spaces; `*` matches anything (also an argument only known at run time); default any arguments',
      ),
    paths: z
      .boolean()
      .default(false)
      .describe(
        "every operand (argument not starting with `-`) is a path that must be inside the agent's `resources.paths`",
      ),
    allowCode: z
      .boolean()
      .default(false)
      .describe(
        'DANGEROUS: permit inline code (`-c`, `-e`, `eval` strings) and code read from standard input for an interpreter or `eval`-like builtin',
      ),
  })
  .strict();

export type ShellCommandEntry = z.infer<typeof CommandEntrySchema>;

export const ShellPolicySchema = z
  .object({
    commands: z
      .record(z.string().min(1), z.union([z.literal(true), CommandEntrySchema]))
      .default({})
      .describe('the allowlist: command name → `true` (any arguments) or `{ args, paths, allowCode }`'),
    deny: z
      .array(z.string().min(1))
      .default([
        'sudo',
        'su',
        'doas',
        'pkexec',
        'runuser',
        'chroot',
        'nsenter',
        'unshare',
        'mount',
        'umount',
        'mkfs',
        'mkfs.*',
        'fdisk',
        'insmod',
        'rmmod',
        'modprobe',
        'shutdown',
        'reboot',
        'halt',
        'poweroff',
        'iptables',
        'nft',
      ])
      .describe(
        'command names denied even when listed (`*` wildcards; also matched on the basename of a path)',
      ),
    builtins: z
      .array(z.string().min(1))
      .default([
        'true',
        'false',
        ':',
        'echo',
        'printf',
        'test',
        '[',
        'pwd',
        'cd',
        'export',
        'declare',
        'local',
        'readonly',
        'typeset',
        'unset',
        'shift',
        'set',
        'exit',
        'return',
        'break',
        'continue',
        'wait',
      ])
      .describe('harmless shell builtins allowed without listing them in `commands`'),
    sensitiveVariables: z
      .array(z.string().min(1))
      .default([
        'PATH',
        'LD_*',
        'DYLD_*',
        'BASH_ENV',
        'ENV',
        'IFS',
        'PROMPT_COMMAND',
        'PS4',
        'SHELLOPTS',
        'BASHOPTS',
        'GLOBIGNORE',
        'CDPATH',
        'HOME',
        'BASH_FUNC_*',
        'PYTHONPATH',
        'PYTHONSTARTUP',
        'PYTHONHOME',
        'NODE_OPTIONS',
        'NODE_PATH',
        'PERL5OPT',
        'PERL5LIB',
        'PERLLIB',
        'RUBYOPT',
        'RUBYLIB',
        'GIT_*',
        'SSH_ASKPASS',
        'EDITOR',
        'VISUAL',
        'PAGER',
        'MANPAGER',
        'LESSOPEN',
        'LESSCLOSE',
        'BROWSER',
        'SHELL',
        'npm_config_*',
        'NPM_CONFIG_*',
      ])
      .describe('variables that change what later commands run; assigning or exporting them is denied'),
    cwd: z
      .string()
      .regex(/^\//, 'expected an absolute directory such as `/workspace`')
      .default('/workspace')
      .describe('where commands start; relative paths are resolved against it'),
  })
  .strict();

export type ShellPolicy = z.infer<typeof ShellPolicySchema>;
