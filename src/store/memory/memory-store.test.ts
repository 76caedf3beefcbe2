import { storeConformance } from '../store.conformance.js';
import { MemoryStore } from './memory-store.js';

storeConformance('memory', async () => new MemoryStore());
