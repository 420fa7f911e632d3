#!/usr/bin/env node
// Start-up is the latency of every command, and most of it is compiling modules. Node's compile
// cache keeps V8's code and the stripped TypeScript between runs; it has to be on before the
// CLI's modules load, hence the dynamic import of the real entry point. This file is plain
// JavaScript because the entry point is loaded before the cache is on: were it TypeScript, every
// start would load and run Node's type stripper (amaro, about 35 ms) for it alone.
import { enableCompileCache } from 'node:module';

enableCompileCache();
await import('./process-main.ts');
