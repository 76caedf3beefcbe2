import { join } from 'node:path';
import { after } from 'node:test';
import { tempDir } from '../../../test/helpers/cli.js';
import { backendConformance } from '../backend.conformance.js';
import { memoryBackend } from './memory-backend.js';
import { sqliteBackend } from './sqlite-backend.js';

const tmp = tempDir('warden-limits-');
after(() => tmp.remove());

backendConformance('memory', async () => memoryBackend());
backendConformance('sqlite', async () => sqliteBackend(join(tmp.dir, 'limits.db')));
