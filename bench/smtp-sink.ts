// The email bench's SMTP server, in its own process (like a real mail server, it does not share the
// worker's CPU): the mail catcher on loopback, keeping no messages, reporting how many it accepted
// over IPC when asked.
import { startMailCatcher } from '../lib/dev/mail-catcher.js';

const catcher = await startMailCatcher(0, '127.0.0.1', 0);
process.send!({ url: catcher.url });
process.on('message', (message: string) => {
  if (message === 'count') process.send!({ accepted: catcher.accepted });
  if (message === 'stop') void catcher.close().then(() => process.exit(0));
});
