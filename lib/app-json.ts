// Bounds on JSON that apps attach (event_data, context_data, and any later free-form value): at most
// APP_JSON_MAX_DEPTH levels of nesting and APP_JSON_MAX_BYTES once serialised. Deeper values would
// blow the stack of every process that serialises them recursively (JSON.stringify in the gateway
// and the worker), so the depth is measured without recursion.

export const APP_JSON_MAX_DEPTH = 32;
export const APP_JSON_MAX_BYTES = 16 * 1024;

/** The nesting depth of a JSON value (a scalar is 0, `{}` and `[]` are 1), measured iteratively; stops past `limit`. */
export function jsonDepth(value: unknown, limit = Infinity): number {
  let deepest = 0;
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (node === null || typeof node !== 'object') continue;
    const level = depth + 1;
    if (level > deepest) deepest = level;
    if (deepest > limit) return deepest;
    for (const child of Array.isArray(node) ? node : Object.values(node)) {
      if (child !== null && typeof child === 'object') stack.push([child, level]);
    }
  }
  return deepest;
}

/** Why an app-supplied JSON value is refused, or null when it is within bounds. */
export function appJsonProblem(value: unknown): string | null {
  if (jsonDepth(value, APP_JSON_MAX_DEPTH) > APP_JSON_MAX_DEPTH) return `is nested deeper than ${APP_JSON_MAX_DEPTH} levels`;
  if (Buffer.byteLength(JSON.stringify(value)) > APP_JSON_MAX_BYTES) return `is larger than ${APP_JSON_MAX_BYTES} bytes as JSON`;
  return null;
}

/**
 * A stored app value as it is read back: itself, or a small marker when it is nested too deep to
 * serialise safely (a row written before these bounds, or by SQL), so one such row cannot turn a
 * whole response — a user's feed shows every app's notifications — into an error.
 */
export function storedAppJson(field: string, value: unknown): unknown {
  return jsonDepth(value, APP_JSON_MAX_DEPTH) > APP_JSON_MAX_DEPTH ? { omitted: `${field} is nested deeper than ${APP_JSON_MAX_DEPTH} levels` } : value;
}
