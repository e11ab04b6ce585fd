// An idle process that only wakes every 2 ms and notes when it could not run for longer than 10 ms:
// a pause every process on the machine shares (the host preempting the VM, both cores taken), which
// a request in flight pays too. The API bench runs it beside each fixed-rate load to tell such
// pauses from the server's own slowness. Over IPC: 'report' → {pauses: ms[]} since the last report.
const TICK_MS = 2;
const PAUSE_MS = 10;

let pauses: number[] = [];
let last = performance.now();
setInterval(() => {
  const now = performance.now();
  if (now - last - TICK_MS > PAUSE_MS) pauses.push(now - last - TICK_MS);
  last = now;
}, TICK_MS);
process.on('message', (message: string) => {
  if (message !== 'report') return;
  process.send!({ pauses });
  pauses = [];
});
process.send!({ ready: true });
