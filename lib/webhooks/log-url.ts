// A webhook URL as logs may show it: scheme, host, port and path. The query string, the fragment
// and any user:password are dropped, since receivers often put a token there.
export function urlForLog(url: string): string {
  try {
    const { protocol, host, pathname } = new URL(url);
    return `${protocol}//${host}${pathname}`;
  } catch {
    return '[unparsable url]';
  }
}
