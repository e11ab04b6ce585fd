// Run one of our entry points as a real child process (as an operator would) and collect its output.
import { spawn, type ChildProcess } from 'node:child_process';
import { fromRoot } from '../../lib/paths.js';
import { TEST_SECRETS_KEY } from './secrets-key.js';

export interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Environment for a child: ours minus DATABASE_URL (each test says which database it wants), the suite's SECRETS_KEY. */
export function childEnv(env: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const base: NodeJS.ProcessEnv = { ...process.env };
  delete base.DATABASE_URL;
  delete base.TAP;
  return { ...base, LOG_LEVEL: 'warn', SECRETS_KEY: TEST_SECRETS_KEY, ...env };
}

export function startChild(entry: string, args: string[], env: Record<string, string | undefined>): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', fromRoot(entry), ...args], {
    cwd: fromRoot(),
    env: childEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

export function finished(child: ChildProcess, timeoutMs = 60_000): Promise<Finished> {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d) => (stdout += d));
  child.stderr?.on('data', (d) => (stderr += d));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`child did not exit within ${timeoutMs} ms; stdout: ${stdout} stderr: ${stderr}`));
    }, timeoutMs);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      // let the pipes drain
      setImmediate(() => resolve({ code, signal, stdout, stderr }));
    });
  });
}

export function runChild(entry: string, args: string[], env: Record<string, string | undefined>, timeoutMs?: number): Promise<Finished> {
  return finished(startChild(entry, args, env), timeoutMs);
}
