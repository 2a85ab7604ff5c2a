import { useState } from 'react';
import { useI18n, type Locale } from './i18n.tsx';
import { applyTheme, loadTheme, type Theme } from './theme.ts';

/** Language and theme pickers. */
export function Preferences() {
  const { t, locale, setLocale } = useI18n();
  const [theme, setTheme] = useState<Theme>(() => loadTheme());
  return (
    <div className="prefs">
      <label>
        <span className="sr-only">{t.language}</span>
        <select value={locale} onChange={(e) => setLocale(e.target.value as Locale)} aria-label={t.language}>
          <option value="en">English</option>
          <option value="zh-CN">中文</option>
        </select>
      </label>
      <label>
        <span className="sr-only">{t.theme}</span>
        <select
          value={theme}
          aria-label={t.theme}
          onChange={(e) => {
            const next = e.target.value as Theme;
            applyTheme(next);
            setTheme(next);
          }}
        >
          <option value="system">{t.themeSystem}</option>
          <option value="light">{t.themeLight}</option>
          <option value="dark">{t.themeDark}</option>
        </select>
      </label>
    </div>
  );
}
