type Node = Record<string, unknown>;

/**
 * Whether a WHERE clause narrows the rows: it must refer to a column, and not be a tautology such
 * as `1=1`, `true`, `a = a`, or an OR with any branch that does not narrow.
 */
export function narrows(where: unknown): boolean {
  if (where === undefined || where === null) return false;
  const node = where as Node;
  const bool = node.BoolExpr as Node | undefined;
  if (bool) {
    const args = Array.isArray(bool.args) ? bool.args : [];
    if (bool.boolop === 'OR_EXPR') return args.length > 0 && args.every(narrows);
    if (bool.boolop === 'AND_EXPR') return args.some(narrows);
    return args.some(narrows); // NOT: NOT(true) is constant; NOT(a = 1) refers to a column
  }
  const expr = node.A_Expr as Node | undefined;
  if (
    expr &&
    expr.kind === 'AEXPR_OP' &&
    JSON.stringify(stripLocations(expr.lexpr)) === JSON.stringify(stripLocations(expr.rexpr))
  )
    return false;
  return refersToColumn(node);
}

function refersToColumn(node: unknown): boolean {
  if (Array.isArray(node)) return node.some(refersToColumn);
  if (node === null || typeof node !== 'object') return false;
  const obj = node as Node;
  if ('ColumnRef' in obj || 'CurrentOfExpr' in obj) return true;
  for (const key in obj) if (refersToColumn(obj[key])) return true;
  return false;
}

function stripLocations(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(stripLocations);
  if (node === null || typeof node !== 'object') return node;
  const out: Node = {};
  for (const [k, v] of Object.entries(node as Node)) if (k !== 'location') out[k] = stripLocations(v);
  return out;
}
