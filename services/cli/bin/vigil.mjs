#!/usr/bin/env node
// Runs Vigil's TypeScript sources directly through tsx's loader: no separate compile step.
import { register } from 'tsx/esm/api';

register();
await import('../src/main.ts');
