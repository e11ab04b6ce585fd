// Installing and uninstalling an app for a user: the typed wrappers of sql/installations/*.sql,
// shared by the REST API (server/routes/installations.ts) and npm start's demo.
import { run, type Queryable } from './db.js';
import { sqlStatement } from './sql.js';

export interface InstalledApp {
  app_id: string;
  app_name: string;
  app_icon: string | null;
  installed_at: Date;
}

interface Change {
  user_id: string;
  app_id: string;
  /** event_data.source of app.installed / app.uninstalled: the platform app, or oriva_core for the user. */
  source: string;
}

const install = sqlStatement<Change, InstalledApp & { created: boolean }>('installations/install');
const uninstall = sqlStatement<Change, { app_id: string }>('installations/uninstall');

/** Installs (recording app.installed when new); null when the app is unknown or inactive. */
export async function installApp(db: Queryable, change: Change): Promise<(InstalledApp & { created: boolean }) | null> {
  const [row] = await run(db, install, change);
  return row ?? null;
}

/** Uninstalls (recording app.uninstalled); false when it was not installed. */
export async function uninstallApp(db: Queryable, change: Change): Promise<boolean> {
  return (await run(db, uninstall, change)).length > 0;
}
