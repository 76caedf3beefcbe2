import { PerformanceObserver } from 'node:perf_hooks';
import { createWarden } from '../src/pipeline/warden.js';
import { MemoryStore } from '../src/store/memory/memory-store.js';
import { openPostgresStore } from '../src/store/postgres/postgres-store.js';
import { FLEET_POLICY, fleetAction } from './fleet-shared.js';
import { rate } from './report.js';

/**
 * One Warden of the fleet bench in its own process (a fleet runs on separate hosts, not on one
 * event loop): opens the store on the schema it is given, warms up as the in-process rows do
 * (5,000 decisions on a memory store, then 5,000 on its PostgreSQL store, so that a server is
 * measured warm, not while V8 is still compiling its pipeline and its store), says `ready`, decides `count` actions with `inFlight` callers when
 * told `go`, and reports its rate, the wall time it finished, and per decision its CPU time and
 * the time its garbage collector paused it.
 */
const WARM_UP = 5000;
/** Decisions each worker makes on its PostgreSQL store before it is timed. */
const PG_WARM_UP = Number(process.env.BENCH_FLEET_PG_WARM_UP ?? 5000);
const WARM_UP_IDS = 10_000_000;

interface Go {
  count: number;
  inFlight: number;
  offset: number;
}

const [url, schema] = process.argv.slice(2);
if (!url || !schema || !process.send) throw new Error('usage: fork fleet-worker.js <pg url> <schema>');
const send = process.send.bind(process);

const warm = await createWarden({ policy: FLEET_POLICY, store: new MemoryStore() });
await rate(WARM_UP, 500, async (i) => {
  await warm.decide(fleetAction(i));
});
await warm.close();
const store = await openPostgresStore({ url, schema });
const warden = await createWarden({ policy: FLEET_POLICY, store });
// And on PostgreSQL: the store's path (pg's protocol code, the audit's packing, the pool) is
// compiled warm too, as the in-process rows' is by the rows before them. Ids far from the timed ones.
await rate(PG_WARM_UP, 250, async (i) => {
  await warden.decide(fleetAction(WARM_UP_IDS + i));
});
send({ ready: true });
process.once('message', (go: Go) => {
  void (async () => {
    try {
      const gc = scavenges();
      const cpu = process.cpuUsage();
      const perSecond = await rate(go.count, go.inFlight, async (i) => {
        const { decision } = await warden.decide(fleetAction(go.offset + i));
        if (decision.effect !== 'allow')
          throw new Error(`unexpected ${decision.effect}: ${decision.reasons[0]?.code}`);
      });
      const finishedAt = Date.now();
      const used = process.cpuUsage(cpu);
      const cpuUs = (used.user + used.system) / go.count;
      const gcUs = (gc.stop() * 1000) / go.count;
      await warden.close();
      await store.close();
      send({ perSecond, finishedAt, cpuUs, gcUs });
    } catch (error) {
      send({ error: (error as Error).message });
    }
    process.disconnect();
  })();
});

/** Sums the garbage collector's pauses (ms) from now until `stop()`. */
function scavenges(): { stop(): number } {
  let ms = 0;
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) ms += entry.duration;
  });
  observer.observe({ entryTypes: ['gc'] });
  return {
    stop() {
      observer.disconnect();
      return ms;
    },
  };
}
