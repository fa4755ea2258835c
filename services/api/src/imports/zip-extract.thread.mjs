// Worker-thread entry: registers tsx so the thread can load Vigil's TypeScript, then the real entry.
import { register } from 'tsx/esm/api';

register();
await import('./zip-extract.worker.ts');
