import type { CompiledPolicy } from '../../policy/compile.js';
import type { Store } from '../../store/store.js';
import type { Assembly } from '../assembly.js';

/**
 * The `monitoring` section: when on (`monitoring.enabled`, which `warden serve` defaults to true),
 * a Monitor observes the pipeline, counts the sandbox's runs, follows the audit stream and
 * delivers alerts. The tighteners other sections add (`parts.tighteners`, read once every section
 * is assembled) take its `tighten-limits` responses. The monitor's module (logs, metrics, traces,
 * alert sinks and their packages) loads only when the section is on.
 */
export async function assembleMonitor(parts: Assembly, policy: CompiledPolicy, store: Store): Promise<void> {
  const config = policy.config.monitoring;
  if (config.enabled !== true) return;
  const { Monitor } = await import('../../monitor/monitor.js');
  const monitor = new Monitor(config, store);
  parts.monitor = monitor;
  parts.observers.push(monitor);
  const metrics = monitor.metrics;
  if (metrics) parts.sandboxListeners.push((run) => metrics.sandboxRun(run));
  parts.attach.push((warden) => {
    for (const tighten of parts.tighteners) monitor.onTighten(tighten);
    return monitor.attach(warden);
  });
  parts.closers.push(() => monitor.close());
}
