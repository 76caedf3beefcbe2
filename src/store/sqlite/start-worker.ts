import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * Starts the worker module `name` (a sibling of this file). Compiled, it is a `.js` file; run
 * from source under tsx (tests, scripts) it is `.ts`, and tsx's hooks do not reach worker
 * threads, so the worker registers them itself before loading the module.
 */
export function startWorker(name: string, options: WorkerOptions = {}): Worker {
  const fromSource = import.meta.url.endsWith('.ts');
  const url = new URL(`./${name}${fromSource ? '.ts' : '.js'}`, import.meta.url);
  if (!fromSource) return new Worker(url, options);
  const source = `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))})
    .then((tsx) => { tsx.register(); return import(${JSON.stringify(url.href)}); })`;
  return new Worker(source, { ...options, eval: true });
}
