import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

/** The repository root, wherever the process was started from. */
export const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const fromRoot = (...parts: string[]): string => join(ROOT, ...parts);
