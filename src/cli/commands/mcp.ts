import { userInfo } from 'node:os';
import type { Command } from 'commander';
import type { ToolPins } from '../../mcp/pins.js';
import type { ToolPin } from '../../store/store.js';
import { CliError } from '../cli-error.js';
import { prestartServer, type StartedServer, sameStart, stopStarted } from './mcp-prestart.js';

// INVARIANT: this module loads nothing heavy: `warden mcp` starts its upstream server from the
// policy file as written (`mcp-prestart.ts`), then loads the policy checker, the upstream's client
// and the common helpers, then (`mcp-serve.ts`) the store, the pipeline and the MCP server side,
// all while the server starts.

interface McpOptions {
  policy?: string;
  session?: string;
  agent?: string;
  db?: string;
  server?: string;
  preset?: 'filesystem' | 'none';
}

export function registerMcp(program: Command): void {
  // `warden mcp pins … --db X`: the option belongs to `pins …`, not to the gateway (commander
  // needs positional options on every ancestor for that; the program itself has only --version).
  program.enablePositionalOptions();
  const mcp = program
    .command('mcp')
    .description('an MCP gateway on stdio: proxies an upstream MCP server through Warden (and `mcp pins`)')
    .usage(
      '--policy FILE [--agent NAME] [--db FILE] [--server NAME] -- <command that starts the MCP server…>',
    )
    .enablePositionalOptions()
    .argument('[command...]', 'the upstream server command (after `--`); default: the policy server’s')
    .option('--policy <file>', 'policy file (required)')
    .option('--agent <name>', 'agent the calls act for (default $WARDEN_AGENT, or the policy’s only agent)')
    .option(
      '--db <file|url>',
      'store: a SQLite file or a postgres:// URL (default .warden/warden.db or $WARDEN_DB)',
    )
    .option(
      '--server <name>',
      'the upstream’s name in action types (mcp.NAME.tool) and pins; its mappings come from mcp.servers.NAME (default: the policy’s only server, else `upstream`)',
    )
    .option(
      '--session <id>',
      'the session the calls belong to: what its tools return taints it (SPEC §2b); default a new id per gateway process',
    )
    .option(
      '--preset <preset>',
      'tool mappings to use: `filesystem` or `none` (default: the policy server’s)',
    )
    .action(async (command: string[], opts: McpOptions) => {
      if (!opts.policy) throw new CliError('no policy: pass --policy FILE');
      const started = await prestartServer(opts.policy, opts.server, command);
      try {
        await gateway(command, { ...opts, policy: opts.policy }, started);
      } catch (error) {
        await stopStarted(started);
        throw error;
      }
    });

  const pins = mcp
    .command('pins')
    .description('the pinned MCP tool definitions: review and approve changed ones');
  pins
    .command('list')
    .description('every tool seen, with its approved digest and any new definition waiting for approval')
    .option('--server <name>', 'only this server’s tools')
    .option(
      '--db <file|url>',
      'store: a SQLite file or a postgres:// URL (default .warden/warden.db or $WARDEN_DB)',
    )
    .option('--json', 'print as JSON (with the definitions)')
    .action(async (opts: { server?: string; db?: string; json?: boolean }) => {
      const list = await withPins(opts.db, (p) => p.list(opts.server));
      if (opts.json) await printJson({ pins: list });
      else
        process.stdout.write(list.length === 0 ? 'no tools pinned\n' : `${list.map(pinLine).join('\n')}\n`);
    });
  pins
    .command('show <server> <tool>')
    .description('one pin in full: the approved and the waiting definitions')
    .option(
      '--db <file|url>',
      'store: a SQLite file or a postgres:// URL (default .warden/warden.db or $WARDEN_DB)',
    )
    .action(async (server: string, tool: string, opts: { db?: string }) => {
      const pin = await withPins(opts.db, (p) => p.store.get(server, tool));
      if (!pin)
        throw new CliError(
          `no tool \`${tool}\` of server \`${server}\` has been seen; see \`warden mcp pins list\``,
          1,
        );
      await printJson(pin);
    });
  pins
    .command('approve <server> <tool>')
    .description('approve the definition waiting for a tool (after reviewing it with `pins show`)')
    .option('--digest <sha256>', 'the digest you reviewed; refused if the waiting definition differs')
    .option('--as <name>', 'who approves (default: cli:$USER)')
    .option(
      '--db <file|url>',
      'store: a SQLite file or a postgres:// URL (default .warden/warden.db or $WARDEN_DB)',
    )
    .option('--json', 'print as JSON')
    .action(
      async (
        server: string,
        tool: string,
        opts: { digest?: string; as?: string; db?: string; json?: boolean },
      ) => {
        const by = opts.as ?? `cli:${process.env.USER ?? userInfo().username}`;
        const { PinError } = await import('../../mcp/pins.js');
        const pin = await withPins(opts.db, (p) => p.approve(server, tool, by, opts.digest)).catch(
          (error: unknown) => {
            if (error instanceof PinError) throw new CliError(`${error.code}: ${error.message}`, 1);
            throw error;
          },
        );
        if (opts.json) await printJson({ pin });
        else process.stdout.write(`${pinLine(pin)}\n`);
      },
    );
}

/** `warden mcp`: checks the options and the policy, adopts (or starts) the server, then serves. */
async function gateway(
  command: string[],
  opts: McpOptions & { policy: string },
  started: StartedServer | undefined,
): Promise<void> {
  const [
    { loadPolicyOrExit, openStore, storeOf, warnWhenNoAgents },
    { Upstream },
    { getDefaultEnvironment },
  ] = await Promise.all([
    import('../common.js'),
    import('../../mcp/upstream.js'),
    import('@modelcontextprotocol/sdk/client/stdio.js'),
  ]);
  // The store, the pipeline and the MCP server side load meanwhile: reading their files overlaps
  // the policy's check (a load that fails is reported once the policy and options are checked).
  // Not before this point: in the one-file bundle (Node < 22.1) a module runs in the microtask
  // its import() queues, and the pipeline's would hold up the policy's check, and so the
  // server's handshake, which starts once the policy is checked (about 150 ms of the start).
  const loading = import('./mcp-serve.js');
  loading.catch(() => undefined);
  const policy = loadPolicyOrExit(opts.policy);
  warnWhenNoAgents(policy, opts.policy);
  const agent = opts.agent ?? process.env.WARDEN_AGENT ?? onlyOne([...policy.agents.keys()]);
  if (!agent) {
    throw new CliError(
      `which agent do the calls act for? pass --agent NAME (the policy has ${policy.agents.size} agents)`,
    );
  }
  if (!policy.agents.has(agent)) {
    throw new CliError(`agent \`${agent}\` is not in the policy ${opts.policy}: add it under \`agents\``);
  }
  const servers = policy.config.mcp.servers;
  const name = opts.server ?? onlyOne(Object.keys(servers)) ?? 'upstream';
  if (!/^[a-z][a-z0-9_-]*$/.test(name)) {
    throw new CliError(`--server \`${name}\`: expected lowercase letters, digits, \`-\` and \`_\``);
  }
  const configured = servers[name];
  if (opts.preset && opts.preset !== 'filesystem' && opts.preset !== 'none') {
    throw new CliError(`--preset \`${opts.preset}\`: expected \`filesystem\` or \`none\``);
  }
  const spec =
    command.length > 0
      ? { command: command[0] as string, args: command.slice(1), env: configured?.env ?? {} }
      : configured?.command || configured?.url
        ? { ...configured }
        : undefined;
  if (!spec) {
    throw new CliError(
      'no upstream server: put its command after `--` (e.g. `warden mcp --policy p.yaml -- npx some-mcp-server`) or name one in `mcp.servers`',
    );
  }
  const db = storeOf(opts.db, policy);
  // The server started from the file as written is used only if the checked policy starts the same.
  const adopt =
    started &&
    !('url' in spec && spec.url) &&
    sameStart(started, { ...spec, env: { ...getDefaultEnvironment(), ...spec.env } });
  if (!adopt) void stopStarted(started);
  const upstream = new Upstream({
    ...spec,
    name,
    preset: opts.preset ?? configured?.preset ?? 'none',
    tools: configured?.tools ?? {},
    ...(adopt ? { started: started.child } : {}),
  });
  // Started (or adopted) now; the store opens while the pipeline and the MCP server side finish
  // loading. Its commits run on the event loop even under `audit.sync: full`: a stdio gateway
  // serves one client, whose calls wait for the commit anyway, and a writer thread cost two thread
  // hops per commit (inline: p50 12–16% lower, CPU per call 10–13% lower, the same calls/s at 16
  // in flight, measured with the bench's echo calls). `warden serve` keeps the thread.
  upstream.prepare();
  const store = openStore(db, { sync: policy.config.audit.sync, auditWriter: 'inline' });
  store.catch(() => undefined);
  let serve: typeof import('./mcp-serve.js');
  try {
    serve = await loading;
  } catch (error) {
    await Promise.allSettled([upstream.close(), store.then((s) => s.close())]);
    throw error;
  }
  await serve.serveGateway({ upstream, policy, agent, store, session: opts.session });
}

async function withPins<T>(db: string | undefined, fn: (pins: ToolPins) => Promise<T>): Promise<T> {
  const [{ AuditLog }, { ToolPins }] = await Promise.all([
    import('../../audit/audit-log.js'),
    import('../../mcp/pins.js'),
  ]);
  const { openStore } = await import('../common.js');
  const store = await openStore(db, { mustExist: true });
  const audit = new AuditLog(store.audit);
  try {
    return await fn(new ToolPins(store, audit, 'approve'));
  } finally {
    await audit.close();
    await store.close();
  }
}

function pinLine(pin: ToolPin): string {
  const state = pin.pending ? (pin.approved ? 'changed' : 'new') : 'approved';
  const approved = pin.approved ? `${pin.approved.digest.slice(0, 16)} by ${pin.approved.by}` : '-';
  const waiting = pin.pending ? `  waiting ${pin.pending.digest}` : '';
  return `${pin.server.padEnd(12)} ${pin.tool.padEnd(28)} ${state.padEnd(9)} ${approved}${waiting}`;
}

async function printJson(value: unknown): Promise<void> {
  (await import('../common.js')).printJson(value);
}

function onlyOne(names: string[]): string | undefined {
  return names.length === 1 ? names[0] : undefined;
}
