import { describe, expect, it } from 'vitest';
import { localize } from './localization.js';

const text = {
  title: 'Doorbell',
  body: 'Someone is at the door',
  localized: {
    'zh-Hant': { title: '門鈴', body: '有人在門口' },
    zh: { title: '门铃', body: '有人在门口' },
    de: { title: 'Türklingel' },
    en: { title: 'Doorbell (en)', body: 'At the door (en)' },
  },
};

describe('localization', () => {
  it.each([
    ['zh-Hant-TW', 'en', '門鈴'],
    ['zh_Hant_HK', 'en', '門鈴'],
    ['zh-CN', 'en', '门铃'],
    ['ZH', 'en', '门铃'],
    ['fr', 'de', 'Türklingel'],
    ['fr', 'ja', 'Doorbell (en)'],
  ])('%s (app default %s) → %s', (language, appDefault, title) => {
    expect(localize(text, language, appDefault).title).toBe(title);
  });

  it('falls back field by field to the notification’s own text', () => {
    expect(localize(text, 'de-AT', 'en')).toEqual({ title: 'Türklingel', body: 'Someone is at the door' });
  });

  it('uses title/body when nothing matches or nothing is localized', () => {
    expect(localize({ ...text, localized: { ja: { title: 'ドア' } } }, 'fr', 'de')).toEqual({
      title: 'Doorbell',
      body: 'Someone is at the door',
    });
    expect(localize({ title: 'T', body: 'B' }, 'fr', 'en')).toEqual({ title: 'T', body: 'B' });
  });
});
