// Every task the worker runs, by identifier. Each task file does one side effect.
import type { TaskList } from 'graphile-worker';
import type { Config } from '../../lib/config.js';
import type { Logger } from '../../lib/log.js';

export interface TaskDeps {
  config: Config;
  databaseUrl: string;
  log: Logger;
}

export function taskList(_deps: TaskDeps): TaskList {
  return {};
}
