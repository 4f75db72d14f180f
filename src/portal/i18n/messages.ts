import type { Language } from '../../accounts/roles.js';
import { da, type MessageKey } from './da.js';
import { en } from './en.js';

export type { MessageKey };
export type Translate = (key: MessageKey, params?: Record<string, string | number>) => string;

const catalogues: Record<Language, Record<MessageKey, string>> = { da, en };

/** The text of a key in a language, with `{name}` filled in. An unknown key shows as itself (a test finds those). */
export function translator(language: Language): Translate {
  const catalogue = catalogues[language];
  return (key, params) => {
    const text = catalogue[key] ?? key;
    return params ? text.replace(/\{(\w+)\}/g, (whole, name: string) => (name in params ? String(params[name]) : whole)) : text;
  };
}

export function isMessageKey(key: string): key is MessageKey {
  return key in da;
}
