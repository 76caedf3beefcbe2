import type { Database, Statement } from 'better-sqlite3';
import type { PinStore, ToolPin } from '../store.js';

/** MCP tool pins in the `mcp_pins` table, one JSON record per (server, tool). */
export class SqlitePinStore implements PinStore {
  readonly #get: Statement;
  readonly #all: Statement;
  readonly #byServer: Statement;
  readonly #put: Statement;
  readonly #update: {
    immediate(
      server: string,
      tool: string,
      change: (c: ToolPin | undefined) => ToolPin | undefined,
    ): ToolPin | undefined;
  };

  constructor(db: Database) {
    this.#get = db.prepare('SELECT record FROM mcp_pins WHERE server = ? AND tool = ?').pluck();
    this.#all = db.prepare('SELECT record FROM mcp_pins ORDER BY server, tool').pluck();
    this.#byServer = db.prepare('SELECT record FROM mcp_pins WHERE server = ? ORDER BY tool').pluck();
    this.#put = db.prepare(
      'INSERT INTO mcp_pins (server, tool, record) VALUES (?, ?, ?) ON CONFLICT (server, tool) DO UPDATE SET record = excluded.record',
    );
    this.#update = db.transaction((server: string, tool: string, change) => {
      const current = this.#read(server, tool);
      const next = change(current);
      if (next === undefined) return current;
      if (next.server !== server || next.tool !== tool) {
        throw new TypeError(`pin update must keep server \`${server}\` and tool \`${tool}\``);
      }
      this.#put.run(server, tool, JSON.stringify(next));
      return next;
    });
  }

  #read(server: string, tool: string): ToolPin | undefined {
    const json = this.#get.get(server, tool) as string | undefined;
    return json === undefined ? undefined : (JSON.parse(json) as ToolPin);
  }

  async get(server: string, tool: string): Promise<ToolPin | undefined> {
    return this.#read(server, tool);
  }

  async list(filter: { server?: string } = {}): Promise<ToolPin[]> {
    const rows = (
      filter.server === undefined ? this.#all.all() : this.#byServer.all(filter.server)
    ) as string[];
    return rows.map((json) => JSON.parse(json) as ToolPin);
  }

  async update(
    server: string,
    tool: string,
    change: (current: ToolPin | undefined) => ToolPin | undefined,
  ): Promise<ToolPin | undefined> {
    return this.#update.immediate(server, tool, change);
  }
}
