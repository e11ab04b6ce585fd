// Event types and patterns, shared by the API (validation), the worker (webhook matching) and the
// gateway (subscriptions). Type = `<event_category>.<event_type>`; a pattern is an exact type,
// `<category>.*`, or `*`.

/**
 * Categories of the events the platform itself emits (notification state changes, installations,
 * webhook health, broadcasts, preferences). Apps may not publish them: an event in one of them is
 * always the platform's word. oriva.is_reserved_category is the SQL side (a platform app's event in
 * any other category reaches the apps its user installed); test/db/definitions.test.ts compares them.
 */
export const RESERVED_EVENT_CATEGORIES = ['notification', 'app', 'webhook', 'broadcast', 'preferences'] as const;

export function isReservedCategory(category: string): boolean {
  return (RESERVED_EVENT_CATEGORIES as readonly string[]).includes(category);
}

export const EVENT_PATTERN = /^(\*|[a-z][a-z0-9_]{0,63}\.(\*|[a-z][a-z0-9_]{0,63}))$/;

export function eventTypeOf(event: { event_category: string; event_type: string }): string {
  return `${event.event_category}.${event.event_type}`;
}

export function matchesPattern(pattern: string, type: string): boolean {
  if (pattern === '*') return true;
  if (pattern.endsWith('.*')) return type.startsWith(pattern.slice(0, -1));
  return pattern === type;
}

export function matchesAny(patterns: readonly string[], type: string): boolean {
  return patterns.some((p) => matchesPattern(p, type));
}

/** A row of oriva.platform_events as the processes read it. */
export interface EventRow {
  id: string;
  seq: number;
  app_id: string;
  /** null: a broadcast.* event (about an audience, not one user). */
  user_id: string | null;
  event_category: string;
  event_type: string;
  entity_type: string;
  entity_id: string;
  event_data: Record<string, unknown>;
  created_at: Date | string;
  /** false: the user's live connections must not see it (a notification whose in_app channel was suppressed); the gateway's reads set it. */
  reaches_user?: boolean;
  /** The other apps that hear it (a platform app's event about a user: the apps that user installed); the gateway's live read sets it. */
  audience_apps?: string[];
}

/** The one JSON shape of an event on every transport (REST, WebSocket, webhook body). */
export interface EventMessage {
  seq: number;
  event_id: string;
  event_category: string;
  event_type: string;
  entity_type: string;
  entity_id: string;
  user_id: string | null;
  app_id: string;
  event_data: Record<string, unknown>;
  timestamp: string;
}

export function toEventMessage(row: EventRow): EventMessage {
  return {
    seq: row.seq,
    event_id: row.id,
    event_category: row.event_category,
    event_type: row.event_type,
    entity_type: row.entity_type,
    entity_id: row.entity_id,
    user_id: row.user_id,
    app_id: row.app_id,
    event_data: row.event_data,
    timestamp: new Date(row.created_at).toISOString(),
  };
}
