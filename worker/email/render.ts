// One digest email: an HTML part and a text part listing the notifications, every app string
// escaped (HTML) or flattened (headers), links only to http(s) action URLs and to the notification
// center, and one-click unsubscribe headers (RFC 8058). Pure: the task passes everything in.

export interface DigestItem {
  id: string;
  app_name: string;
  app_icon: string | null;
  title: string;
  body: string;
  action_url: string | null;
  action_label: string | null;
  priority: string;
  category: string;
  created_at: Date;
  /** Rendered from the app's template (lib/templates.ts): used when the email lists only this one. */
  email_subject?: string | null;
  /** HTML, every template output already escaped by the template engine. */
  email_html?: string | null;
}

export interface DigestEmail {
  from: string;
  to: string;
  subject: string;
  text: string;
  html: string;
  messageId: string;
  headers: Record<string, string>;
}

export interface RenderOptions {
  from: string;
  /** Where the notification center is (PUBLIC_URL). */
  centerUrl: string;
  /** The one-click unsubscribe URL (carries the signed token). */
  unsubscribeUrl: string;
  /** What the unsubscribe switches off, in words ("social notifications", "all notifications"). */
  unsubscribeWhat: string;
  /** Message-ID domain part. */
  messageDomain: string;
}

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export const escapeHtml = (value: string) => value.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!);

/** One line for a header: no CR, LF or other control characters, bounded length. */
export function headerText(value: string, max = 200): string {
  // eslint-disable-next-line no-control-regex -- the point is to remove control characters
  const line = value.replace(/[\u0000-\u001f\u007f\u2028\u2029]+/g, ' ').replace(/\s+/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

/** The URL when it is http(s), else null: javascript:, data:, app schemes are never linked in email. */
export function linkable(raw: string | null): string | null {
  if (!raw) return null;
  try {
    const url = new URL(raw);
    return url.protocol === 'https:' || url.protocol === 'http:' ? url.href : null;
  } catch {
    return null;
  }
}

export function subjectOf(items: DigestItem[]): string {
  if (items.length === 1 && items[0]!.email_subject) return headerText(items[0]!.email_subject);
  if (items.length === 1) return headerText(`${items[0]!.app_name}: ${items[0]!.title}`);
  const apps = [...new Set(items.map((i) => i.app_name))];
  const from = apps.length <= 2 ? apps.join(' and ') : `${apps.slice(0, 2).join(', ')} and ${apps.length - 2} more`;
  return headerText(`${items.length} new notifications from ${from}`);
}

function textPart(items: DigestItem[], options: RenderOptions): string {
  const lines = [items.length === 1 ? 'You have a new notification.' : `You have ${items.length} new notifications.`, ''];
  for (const item of items) {
    lines.push(`${item.app_name}${item.priority === 'urgent' ? ' (urgent)' : ''}`, item.title, item.body);
    const link = linkable(item.action_url);
    if (link) lines.push(`${item.action_label ?? 'Open'}: ${link}`);
    lines.push('');
  }
  lines.push(`See everything in your notification center: ${options.centerUrl}/`, '',
    `Stop emails for ${options.unsubscribeWhat}: ${options.unsubscribeUrl}`);
  return lines.join('\n');
}

function htmlItem(item: DigestItem): string {
  const link = linkable(item.action_url);
  const icon = linkable(item.app_icon)?.startsWith('https:') ? linkable(item.app_icon) : null;
  return [
    '<tr><td style="padding:12px 0;border-bottom:1px solid #e4e7ec">',
    '<div style="font-size:13px;color:#475467">',
    icon ? `<img src="${escapeHtml(icon)}" alt="" width="16" height="16" style="vertical-align:middle;border-radius:4px"> ` : '',
    `<strong>${escapeHtml(item.app_name)}</strong>`,
    item.priority === 'urgent' ? ' <span style="color:#b42318">urgent</span>' : '',
    '</div>',
    `<div style="font-size:16px;font-weight:700;margin-top:4px">${escapeHtml(item.title)}</div>`,
    `<div style="margin-top:2px;white-space:pre-line">${escapeHtml(item.body)}</div>`,
    link ? `<div style="margin-top:8px"><a href="${escapeHtml(link)}">${escapeHtml(item.action_label ?? 'Open')}</a></div>` : '',
    '</td></tr>',
  ].join('');
}

function htmlPart(items: DigestItem[], options: RenderOptions): string {
  const center = `${options.centerUrl}/`;
  return [
    '<!doctype html><html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">',
    `<title>${escapeHtml(subjectOf(items))}</title></head>`,
    '<body style="margin:0;padding:16px;background:#f6f7fb;font-family:system-ui,sans-serif;color:#101828">',
    '<table role="presentation" width="100%" style="max-width:560px;margin:0 auto;background:#fff;border-radius:12px;padding:16px">',
    `<tr><td><h1 style="font-size:18px;margin:0 0 8px">${items.length === 1 ? 'A new notification' : `${items.length} new notifications`}</h1></td></tr>`,
    ...(items.length === 1 && items[0]!.email_html
      ? [`<tr><td style="padding:12px 0;border-bottom:1px solid #e4e7ec">${items[0]!.email_html}</td></tr>`]
      : items.map(htmlItem)),
    `<tr><td style="padding-top:16px"><a href="${escapeHtml(center)}">Open your notification center</a></td></tr>`,
    `<tr><td style="padding-top:16px;font-size:12px;color:#667085">You get these emails because you were not online. `,
    `<a href="${escapeHtml(options.unsubscribeUrl)}">Stop emails for ${escapeHtml(options.unsubscribeWhat)}</a>.</td></tr>`,
    '</table></body></html>',
  ].join('');
}

export function renderDigest(emailId: string, to: string, items: DigestItem[], options: RenderOptions): DigestEmail {
  return {
    from: options.from,
    to,
    subject: subjectOf(items),
    text: textPart(items, options),
    html: htmlPart(items, options),
    messageId: `<${emailId}@${options.messageDomain}>`,
    headers: {
      'List-Unsubscribe': `<${options.unsubscribeUrl}>`,
      'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
    },
  };
}
