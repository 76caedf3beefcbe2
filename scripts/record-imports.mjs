// Module hooks for scripts/check-light-root.mjs: record every module Node resolves, with the module
// that asked for it, one `parent<TAB>child` line per resolution in the file given at registration.
// A hook sees ESM imports and the first require() of each CommonJS package from ESM; the checker
// adds the CommonJS loader's own cache for requires inside CommonJS packages.
import { appendFileSync } from 'node:fs';

let out = '';

/** Called by `module.register(…, { data: { out } })`. */
export function initialize(data) {
  out = data.out;
}

/** Passes every resolution on unchanged and writes it down. */
export async function resolve(specifier, context, nextResolve) {
  const result = await nextResolve(specifier, context);
  appendFileSync(out, `${context.parentURL ?? ''}\t${result.url}\n`);
  return result;
}
