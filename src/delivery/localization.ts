export interface LocalizedText {
  title?: string | undefined;
  body?: string | undefined;
}

export interface NotificationText extends LocalizedText {
  localized?: Record<string, LocalizedText> | undefined;
}

function normalizeTag(tag: string): string {
  return tag.trim().replaceAll('_', '-').toLowerCase();
}

/** `zh-Hant-TW` → `zh-Hant-TW`, `zh-Hant`, `zh`. */
function withParents(tag: string): string[] {
  const parts = normalizeTag(tag).split('-').filter(Boolean);
  const chain: string[] = [];
  for (let length = parts.length; length > 0; length -= 1) chain.push(parts.slice(0, length).join('-'));
  return chain;
}

/**
 * The text one phone gets: the best match of its language in `localized`, falling back
 * through the language's parents, then the app's default language (and its parents), then
 * `en`, then the notification's own `title`/`body`. A matched entry's missing field falls
 * back to the notification's own.
 */
export function localize(
  text: NotificationText,
  language: string,
  appDefaultLanguage: string,
): LocalizedText {
  const entries = new Map<string, LocalizedText>();
  for (const [tag, entry] of Object.entries(text.localized ?? {})) entries.set(normalizeTag(tag), entry);
  if (entries.size > 0) {
    for (const candidate of [...withParents(language), ...withParents(appDefaultLanguage), 'en']) {
      const entry = entries.get(candidate);
      if (entry !== undefined) return { title: entry.title ?? text.title, body: entry.body ?? text.body };
    }
  }
  return { title: text.title, body: text.body };
}
