#!/usr/bin/env node
// The `gpt1` command in a checkout: tsx compiles the TypeScript sources on the fly, and
// src/cli/bin.ts (the published executable's source) does the rest.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/bin.ts');
