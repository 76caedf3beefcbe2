import type { McpServerConfig, ToolAction, ToolMapping } from '../policy/sections/mcp.js';

/**
 * How a tool call becomes Warden actions. A mapped tool becomes the action type(s) its mapping
 * names, with the mapped arguments renamed to action params (and the other arguments passed
 * under their own names); an unmapped tool becomes `mcp.<server>.<tool>` with its arguments as
 * params.
 */

const FS_READ = { type: 'fs.read', params: { path: 'path' } };
const FS_WRITE = { type: 'fs.write', params: { path: 'path' } };
const FS_LIST = { type: 'fs.list', params: { path: 'path' } };

/**
 * Mappings shipped for `@modelcontextprotocol/server-filesystem`: every tool that touches a path
 * becomes an `fs.*` action on that path, so agents' path grants (and the file guard) apply.
 * `list_allowed_directories` touches no path and stays `mcp.<server>.list_allowed_directories`.
 */
export const FILESYSTEM_PRESET: Readonly<Record<string, ToolMapping>> = {
  read_file: FS_READ,
  read_text_file: FS_READ,
  read_media_file: FS_READ,
  read_multiple_files: { type: 'fs.read', params: { path: 'paths[]' } },
  get_file_info: FS_READ,
  write_file: FS_WRITE,
  edit_file: FS_WRITE,
  create_directory: FS_WRITE,
  list_directory: FS_LIST,
  list_directory_with_sizes: FS_LIST,
  directory_tree: FS_LIST,
  search_files: FS_LIST,
  // A move removes the source and creates the destination.
  move_file: [
    { type: 'fs.write', params: { path: 'destination' } },
    { type: 'fs.delete', params: { path: 'source' } },
  ],
};

export const PRESETS: Readonly<Record<string, Readonly<Record<string, ToolMapping>>>> = {
  filesystem: FILESYSTEM_PRESET,
  none: {},
};

/** The tool mappings of a server: its preset's, overridden tool by tool by its own `tools`. */
export function mappingsOf(server: Pick<McpServerConfig, 'preset' | 'tools'>): Map<string, ToolAction[]> {
  const merged = { ...(PRESETS[server.preset] ?? {}), ...server.tools };
  const out = new Map<string, ToolAction[]>();
  for (const [tool, mapping] of Object.entries(merged)) {
    out.set(tool, (Array.isArray(mapping) ? mapping : [mapping]) as ToolAction[]);
  }
  return out;
}

/** `mcp.<server>.<tool>`, the tool name lowercased and anything but `a-z 0-9 _ -` turned into `_`. */
export function unmappedType(server: string, tool: string): string {
  return `mcp.${server}.${tool.toLowerCase().replace(/[^a-z0-9_-]/g, '_') || '_'}`;
}

/** The action types a tool's calls become (for `tools/list` filtering). */
export function typesOf(server: string, tool: string, mappings: Map<string, ToolAction[]>): string[] {
  const mapped = mappings.get(tool);
  return mapped ? mapped.map((m) => m.type) : [unmappedType(server, tool)];
}

export interface MappedAction {
  type: string;
  params: Record<string, unknown>;
}

/**
 * The actions one call stands for: one per mapping entry, and one per element of a `name[]`
 * argument. A mapped argument that is missing, or a `name[]` that is not a list, still yields an
 * action (without that param), which validation or permissions then refuse: never a silent allow.
 */
export function actionsFor(
  server: string,
  tool: string,
  args: Record<string, unknown>,
  mappings: Map<string, ToolAction[]>,
): MappedAction[] {
  const mapped = mappings.get(tool);
  if (!mapped) return [{ type: unmappedType(server, tool), params: { ...args } }];
  // Arguments no entry maps pass through under their own names.
  const used = new Set<string>();
  for (const entry of mapped) {
    for (const ref of Object.values(entry.params)) used.add(ref.endsWith('[]') ? ref.slice(0, -2) : ref);
  }
  const rest: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(args)) if (!used.has(key)) rest[key] = value;
  const out: MappedAction[] = [];
  for (const entry of mapped) {
    let variants: Record<string, unknown>[] = [{ ...rest }];
    for (const [param, ref] of Object.entries(entry.params)) {
      if (ref.endsWith('[]')) {
        const list = args[ref.slice(0, -2)];
        const items = Array.isArray(list) && list.length > 0 ? list : [undefined];
        variants = variants.flatMap((v) =>
          items.map((item) => (item === undefined ? { ...v } : { ...v, [param]: item })),
        );
      } else {
        const value = args[ref];
        if (value !== undefined) for (const v of variants) v[param] = value;
      }
    }
    for (const params of variants) out.push({ type: entry.type, params });
  }
  return out;
}
