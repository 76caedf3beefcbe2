import assert from 'node:assert/strict';
import { test } from 'node:test';
import Docker from 'dockerode';
import { SandboxPolicySchema } from '../../src/policy/sections/sandbox.js';
import { createDockerSandbox, type DockerSandbox } from '../../src/sandbox/docker-sandbox.js';
import { sandboxConformance } from '../../src/sandbox/sandbox.conformance.js';
import { TEST_LIMITS } from './helpers.js';

// The Docker backend runs where an engine answers. Where none does (this project's CI has no
// container engine), each test says so plainly instead of passing.
const SOCKET = process.env.WARDEN_DOCKER_SOCKET ?? '/var/run/docker.sock';
const IMAGE = process.env.WARDEN_DOCKER_IMAGE ?? 'python:3.12-slim';
const policy = SandboxPolicySchema.parse({
  backend: 'docker',
  limits: TEST_LIMITS,
  docker: { socket: SOCKET, image: IMAGE },
});
const NO_ENGINE = `skipped: no Docker engine at ${SOCKET}`;

const made = await createDockerSandbox(policy);
const noEngine = made.problem?.startsWith('no Docker engine');
// An engine without the image is a failure that says what to pull, not a skip.
if (made.problem && !noEngine) throw new Error(made.problem);

sandboxConformance('docker', async () => (made.sandbox ? made.sandbox : NO_ENGINE));

function engine(t: { skip(message: string): void }): DockerSandbox | undefined {
  if (!made.sandbox) t.skip(NO_ENGINE);
  return made.sandbox;
}

test('docker: a memory bomb dies at the limit; the container is removed afterwards', async (t) => {
  const box = engine(t);
  if (!box) return;
  const docker = new Docker({ socketPath: SOCKET });
  const before = (await docker.listContainers({ all: true })).length;
  const r = await box.run({ argv: ['python3', '-c', 'x = []\nwhile True: x.append(b"x" * (16 << 20))'] });
  assert.ok(r.violations.includes('memory'), `violations: ${r.violations}`);
  assert.equal((await docker.listContainers({ all: true })).length, before);
});
