// docs/scaling.md shows the capacity model's output (issue 19, item 5): every line the model prints
// — its tables and its summary of where one primary stops — is in the document as printed, so a
// changed input in bench/scaling.model.ts cannot leave the document's figures behind.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import t from 'tap';
import { fromRoot } from '../../lib/paths.js';

const output = execFileSync(process.execPath, ['--import', 'tsx', fromRoot('bench', 'scaling.model.ts')], { cwd: fromRoot(), encoding: 'utf8' });
const document = new Set(readFileSync(fromRoot('docs', 'scaling.md'), 'utf8').split('\n'));

const printed = output.split('\n').filter((line) => line.startsWith('|') || line.startsWith('One primary carries') || line.startsWith('Without the lock'));

t.ok(printed.length >= 20, `the model printed its tables (${printed.length} lines)`);
t.same(printed.filter((line) => !document.has(line)), [], 'every table row and summary line of the model is in docs/scaling.md as printed');
