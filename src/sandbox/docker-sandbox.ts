import { PassThrough } from 'node:stream';
import Docker from 'dockerode';
import type { SandboxPolicy } from '../policy/sections/sandbox.js';
import { LIMIT_NAMES, limitsFromPolicy, runTimeout, signalName, violationNotice } from './limits.js';
import { OutputCapture } from './output-capture.js';
import type {
  LimitName,
  Sandbox,
  SandboxInfo,
  SandboxLimits,
  SandboxRequest,
  SandboxResult,
  Violation,
} from './sandbox.js';
import { SandboxError } from './sandbox.js';

/**
 * The container backend, through the Docker Engine API (`dockerode`): for hosts where an engine
 * answers. Each run is a fresh container with no network, the memory (no swap), CPU quota and
 * pids limits, a read-only root filesystem, size-limited tmpfs `/tmp` and `/workspace`, uid
 * 65534, no capabilities, `no-new-privileges`, RLIMIT_FSIZE; it is removed afterwards.
 * A run costs a container start (hundreds of ms) instead of bubblewrap's milliseconds.
 */
export class DockerSandbox implements Sandbox {
  readonly info: SandboxInfo;
  readonly limits: SandboxLimits;
  readonly #docker: Docker;
  readonly #policy: SandboxPolicy;

  constructor(policy: SandboxPolicy, docker: Docker, version: string) {
    this.#policy = policy;
    this.#docker = docker;
    this.limits = limitsFromPolicy(policy);
    const enforced: Partial<Record<LimitName, string>> = {
      memory: 'docker (memory = memory+swap)',
      cpu: 'docker cpu quota',
      pids: 'docker pids limit',
      timeout: 'supervisor: container kill',
      output: 'supervisor: capture cap, then container kill',
      fileSize: 'docker ulimit fsize',
      tmpSize: 'docker tmpfs size',
      network: 'docker network none',
    };
    if (policy.network.allow.length > 0) delete enforced.network; // no proxy bridge for containers yet
    const unenforceable = LIMIT_NAMES.filter((n) => !enforced[n]);
    this.info = {
      backend: 'docker',
      summary: `docker engine ${version}, image ${policy.docker.image}, no network${unenforceable.length ? `; cannot enforce ${unenforceable.join(', ')}` : ''}`,
      enforced,
      unenforceable,
    };
  }

  /** The interpreter inside the image for `code.exec`. */
  interpreter(language: 'python' | 'javascript'): string {
    return language === 'python' ? 'python3' : 'node';
  }

  async run(request: SandboxRequest): Promise<SandboxResult> {
    if (this.info.unenforceable.length > 0 && this.#policy.unenforceable === 'refuse')
      throw new SandboxError(
        'sandbox.limit-unenforceable',
        `the docker backend cannot enforce ${this.info.unenforceable.join(', ')} that the policy requires; the run is refused`,
      );
    const limits = this.limits;
    const started = performance.now();
    const timeoutMs = runTimeout(limits.timeoutMs, request.deadline);
    const tmpfs = `rw,noexec,nosuid,size=${limits.tmpBytes}`;
    const container = await this.#docker.createContainer({
      Image: this.#policy.docker.image,
      Cmd: [...request.argv],
      WorkingDir: '/workspace',
      User: '65534:65534',
      Env: ['PATH=/usr/local/bin:/usr/bin:/bin', 'HOME=/workspace', 'TMPDIR=/tmp', 'LANG=C.UTF-8'].concat(
        Object.entries(this.#policy.env).map(([k, v]) => `${k}=${v}`),
      ),
      NetworkDisabled: true,
      AttachStdout: true,
      AttachStderr: true,
      AttachStdin: request.stdin !== undefined,
      OpenStdin: request.stdin !== undefined,
      StdinOnce: request.stdin !== undefined,
      Tty: false,
      HostConfig: {
        NetworkMode: 'none',
        Memory: limits.memoryBytes,
        MemorySwap: limits.memoryBytes,
        NanoCpus: Math.round(limits.cpu * 1e9),
        PidsLimit: limits.pids,
        ReadonlyRootfs: true,
        CapDrop: ['ALL'],
        SecurityOpt: ['no-new-privileges'],
        Tmpfs: { '/tmp': tmpfs, '/workspace': `rw,nosuid,size=${limits.tmpBytes},uid=65534,gid=65534` },
        Ulimits: [
          { Name: 'fsize', Soft: limits.fileSizeBytes, Hard: limits.fileSizeBytes },
          { Name: 'core', Soft: 0, Hard: 0 },
        ],
        // Removed explicitly below, after its state (OOMKilled) has been read.
        AutoRemove: false,
      },
    });
    const violations = new Set<Violation>();
    let killed = false;
    let aborted = false;
    const kill = () => {
      killed = true;
      container.kill().catch(() => undefined);
    };
    try {
      const stream = await container.attach({
        stream: true,
        stdout: true,
        stderr: true,
        stdin: request.stdin !== undefined,
        hijack: request.stdin !== undefined,
      });
      const out = new PassThrough();
      const err = new PassThrough();
      const stdout = new OutputCapture(out, limits.outputBytes, () => {
        violations.add('output-cap');
        kill();
      });
      const stderr = new OutputCapture(err, limits.outputBytes, () => {
        violations.add('output-cap');
        kill();
      });
      this.#docker.modem.demuxStream(stream, out, err);
      await container.start();
      if (request.stdin !== undefined) stream.end(request.stdin);
      const timer = setTimeout(() => {
        // A run already being killed (output cap, abort) did not run out of time: a slow kill
        // under load must not add a second, false violation.
        if (killed) return;
        violations.add('timeout');
        kill();
      }, timeoutMs);
      const onAbort = () => {
        aborted = true;
        kill();
      };
      request.signal?.addEventListener('abort', onAbort, { once: true });
      let status: { StatusCode: number };
      try {
        status = (await container.wait()) as { StatusCode: number };
      } finally {
        clearTimeout(timer);
        request.signal?.removeEventListener('abort', onAbort);
      }
      // The attach stream can deliver the last output after the wait returns.
      await new Promise<void>((resolve) => {
        const s = stream as NodeJS.ReadWriteStream & { readableEnded?: boolean; destroyed?: boolean };
        if (s.readableEnded || s.destroyed) return resolve();
        const done = setTimeout(resolve, 2000);
        const end = () => {
          clearTimeout(done);
          resolve();
        };
        stream.once('end', end);
        stream.once('close', end);
      });
      const state = (await container.inspect()).State;
      if (state.OOMKilled) violations.add('memory');
      const code = killed ? null : status.StatusCode;
      const sig = killed ? 'SIGKILL' : code !== null && code > 128 ? signalName(code - 128) : null;
      const errText = stderr.result();
      if (
        sig === 'SIGXFSZ' ||
        /File too large|File size limit exceeded|No space left on device/.test(errText.text)
      )
        violations.add('file-size');
      const result: SandboxResult = {
        backend: 'docker',
        exitCode: code,
        signal: sig,
        stdout: stdout.result(),
        stderr: errText,
        durationMs: performance.now() - started,
        peakMemoryBytes: null,
        cpuMs: null,
        violations: [...violations],
        enforced: this.info.enforced,
        unenforced: this.info.unenforceable,
        aborted,
      };
      if (result.violations.length > 0) {
        const notice = violationNotice(result, limits);
        result.stderr = { ...errText, text: `${errText.text}${errText.text ? '\n' : ''}${notice}` };
      }
      return result;
    } finally {
      await container.remove({ force: true }).catch(() => undefined);
    }
  }

  async close(): Promise<void> {}
}

/**
 * Connects to the engine at the policy's socket, or returns a problem saying that none answered.
 * The image must be present (pulled by the operator): Warden never pulls at run time.
 */
export async function createDockerSandbox(
  policy: SandboxPolicy,
): Promise<{ sandbox?: DockerSandbox; problem?: string }> {
  const docker = new Docker({ socketPath: policy.docker.socket });
  let version: string;
  try {
    let timer: NodeJS.Timeout | undefined;
    const answer = docker.version() as Promise<{ Version?: string }>;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('no answer within 2 s')), 2000);
    });
    version = (await Promise.race([answer, late]).finally(() => clearTimeout(timer))).Version ?? 'unknown';
  } catch (error) {
    return {
      problem: `no Docker engine at ${policy.docker.socket} (${(error as Error).message}); start one, or use the bwrap backend`,
    };
  }
  try {
    await docker.getImage(policy.docker.image).inspect();
  } catch {
    return {
      problem: `the Docker image \`${policy.docker.image}\` is not present: pull it (\`docker pull ${policy.docker.image}\`) or set sandbox.docker.image`,
    };
  }
  return { sandbox: new DockerSandbox(policy, docker, version) };
}
