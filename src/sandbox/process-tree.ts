import { readFileSync } from 'node:fs';

// The processes of a sandbox run as /proc shows them, for `BwrapRun`: whether one is still there,
// whether it has children left, and killing one that may already be gone. /proc is read
// synchronously: it answers from memory in microseconds, while the thread pool that asynchronous
// reads wait for may be busy removing earlier runs' cgroups (milliseconds each).

/** A process's state letter and start time from `/proc/PID/stat`; undefined once it is gone. */
export function readStat(pid: number): { state: string; start: string } | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // `pid (comm) state ppid …`: comm may hold spaces and parentheses, so split after the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { state: fields[0] ?? '', start: fields[19] ?? '' };
}

/**
 * Whether `pid` has no children left but zombies. False when that cannot be read (no
 * `/proc/PID/task/PID/children` on this kernel, or no permission): the caller then waits for
 * `pid` itself.
 */
export function noLiveChildren(pid: number): boolean {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8');
  } catch {
    return false;
  }
  for (const child of text.split(' ')) {
    if (child.trim() === '') continue;
    const stat = readStat(Number(child));
    if (stat && stat.state !== 'Z' && stat.state !== 'X') return false;
  }
  return true;
}

/** When `pid` started (clock ticks since boot), to tell it from a later process given its pid. */
export function processStart(pid: number): string | undefined {
  return readStat(pid)?.start;
}

/** SIGKILL to `pid`, if it is still there. */
export function tryKill(pid: number | undefined): void {
  if (!pid) return;
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}
