-- Changes to an app's keys or to the app (revoked, deleted, disabled, platform flag): payload = app id.
listen oriva_keys
