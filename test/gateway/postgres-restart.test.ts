// Postgres restarts under a running gateway (a private cluster: the shared one is never
// restarted): the LISTEN connection comes back, catches up from the table, and an open client as
// well as one that resumes lose nothing and receive nothing twice.
import t from 'tap';
import { createApp } from '../../lib/apps.js';
import { makePool } from '../../lib/db.js';
import { privatePostgres } from '../helpers/private-postgres.js';
import { userAuth } from '../helpers/stack.js';
import { Client, gateway, insertEvent, released } from './helpers.js';

const pg = await privatePostgres(t);
const pool = makePool(pg.url, { role: 'oriva_system', max: 2 });
t.teardown(() => pool.end());
await createApp(pool, { id: 'work-buddy', name: 'Work Buddy' });
const gw = await gateway(t, pg.url);

async function publish(userId: string, n: number): Promise<number[]> {
  const seqs: number[] = [];
  for (let i = 0; i < n; i++) seqs.push(await insertEvent(pool, { appId: 'work-buddy', userId }));
  return seqs;
}

t.test('nothing lost, nothing duplicated, order kept across a Postgres restart', async (t) => {
  const { auth } = await userAuth('alice');
  const open = await Client.open(t, gw, { headers: auth });
  const leaving = await Client.open(t, gw, { headers: auth });
  const before = await publish('alice', 3);
  await open.eventCount(3);
  await leaving.eventCount(3);
  await leaving.close();

  await pg.restart();
  const after = await publish('alice', 3); // pool reconnects; the gateway's LISTEN is still coming back
  await released(gw, after.at(-1)!, 15_000);
  await open.eventCount(6, 15_000);
  t.same(open.seqs(), [...before, ...after], 'the open connection got every event once, in order');

  const resumed = await Client.open(t, gw, { headers: auth, query: { after: leaving.seqs().at(-1)! } });
  t.same(resumed.seqs(), after, 'the resuming client got what it missed');
  const live = await publish('alice', 1);
  await resumed.eventCount(4);
  t.same(resumed.seqs(), [...after, ...live]);
});
