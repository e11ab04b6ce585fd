#!/usr/bin/env node
// `npx oriva …`: the operator CLI. Loads the TypeScript sources through tsx.
import { register } from 'tsx/esm/api';

register();
await import('./main.ts');
