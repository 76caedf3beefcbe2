// Types of scripts/import-graph.mjs, for the tests that use it (test/architecture/).
import type { ICruiseResult, IModule, IViolation } from 'dependency-cruiser';

/** One layer of scripts/layers.cjs. */
export interface Layer {
  name: string;
  folders: string[];
  says: string;
}

export const projectRoot: string;
export const LAYERS: readonly Layer[];
export function cruiseSrc(root?: string): Promise<ICruiseResult>;
export function layerOf(path: string): Layer | undefined;
export function layerImports(modules: readonly IModule[]): {
  edges: Map<string, Set<string>>;
  unlayered: string[];
};
export function describeViolations(violations: readonly IViolation[]): string[];
