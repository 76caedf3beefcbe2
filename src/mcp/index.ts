/**
 * Warden's MCP gateway (`warden/mcp`): upstream MCP servers behind Warden's checks, their tool
 * definitions pinned. A subpath of its own so that `import 'warden'` loads no MCP SDK.
 *
 * @example
 * import { McpGateway, ToolPins, Upstream } from 'warden/mcp';
 * const upstream = new Upstream({ name: 'fs', command: 'npx', args: ['@modelcontextprotocol/server-filesystem', '/data'] });
 */

export type { GatewayOptions } from './gateway.js';
export { McpGateway, NAMESPACE_SEPARATOR, refusal as mcpRefusal } from './gateway.js';
export type { PinMode, PinState } from './pins.js';
export { PinError, pinnedDefinition, ToolPins } from './pins.js';
export { FILESYSTEM_PRESET, unmappedType } from './tool-mapping.js';
export type { UpstreamSpec, UpstreamTool } from './upstream.js';
export { Upstream } from './upstream.js';
