import { randomBytes } from 'node:crypto';
import { userInfo } from 'node:os';
import type { Command } from 'commander';
import { AuditLog } from '../../audit/audit-log.js';
import { serveToolCallsDirectly, toolCallsCheckedHere } from '../../mcp/direct-calls.js';
import { McpGateway } from '../../mcp/gateway.js';
import { PinError, ToolPins } from '../../mcp/pins.js';
import { StdioLinesServerTransport } from '../../mcp/stdio-lines.js';
import { Upstream } from '../../mcp/upstream.js';
import { createWarden, type Warden } from '../../pipeline/warden.js';
import type { Store, ToolPin } from '../../store/store.js';
import { CliError, loadPolicyOrExit, openStore, printJson, storeOf, warnWhenNoAgents } from '../common.js';

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
      const upstream = new Upstream({
        ...spec,
        name,
        preset: opts.preset ?? configured?.preset ?? 'none',
        tools: configured?.tools ?? {},
      });

      // The server starts while Warden opens its store and assembles the pipeline (~100 ms here).
      upstream.prepare();
      let store: Store | undefined;
      let warden: Warden;
      try {
        store = await openStore(storeOf(opts.db, policy), { sync: policy.config.audit.sync });
        warden = await createWarden({ policy, store });
      } catch (error) {
        await Promise.allSettled([upstream.close(), store?.close()]);
        throw error;
      }
      const pins = new ToolPins(store, warden.audit, policy.config.mcp.pinning);
      const gateway = new McpGateway({ warden, upstreams: [upstream], pins, namespaced: false });
      const shutdown = async () => {
        await gateway.close();
        await warden.close();
        await store.close();
      };
      try {
        await gateway.start();
      } catch (error) {
        await shutdown();
        throw new CliError((error as Error).message, 1);
      }
      const session = opts.session ?? `mcp-${randomBytes(6).toString('hex')}`;
      const server = gateway.serverFor(agent, { elicitation: true, session });
      const observe = upstream.onTools;
      upstream.onTools = async (tools) => {
        await observe?.(tools);
        await server.sendToolListChanged().catch(() => undefined);
      };
      const transport = new StdioLinesServerTransport({ checkedByReceiver: toolCallsCheckedHere });
      let closing = false;
      const stop = () => {
        if (closing) return;
        closing = true;
        void shutdown().finally(() => process.exit(0));
      };
      transport.onclose = stop;
      process.stdin.once('end', stop);
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      await server.connect(transport);
      serveToolCallsDirectly(transport, (params, extra) =>
        gateway.serveCall(server, agent, params, extra, { elicitation: true, session }),
      );
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
      if (opts.json) printJson({ pins: list });
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
      printJson(pin);
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
        const pin = await withPins(opts.db, (p) => p.approve(server, tool, by, opts.digest)).catch(
          (error: unknown) => {
            if (error instanceof PinError) throw new CliError(`${error.code}: ${error.message}`, 1);
            throw error;
          },
        );
        if (opts.json) printJson({ pin });
        else process.stdout.write(`${pinLine(pin)}\n`);
      },
    );
}

async function withPins<T>(db: string | undefined, fn: (pins: ToolPins) => Promise<T>): Promise<T> {
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

function onlyOne(names: string[]): string | undefined {
  return names.length === 1 ? names[0] : undefined;
}
