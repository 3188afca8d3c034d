#!/usr/bin/env node
// The `nexus` executable: runs the TypeScript CLI through tsx's loader (a runtime dependency), so the installed
// package and a fresh clone behave the same.
import { register } from 'tsx/esm/api';

register();
await import('../cli/nexus.ts');
