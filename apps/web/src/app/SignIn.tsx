import { useState, type FormEvent } from 'react';
import { useI18n } from './i18n.tsx';
import { Preferences } from './Preferences.tsx';
import { clientFor, saveCredentials, type Credentials } from './session.tsx';

/** API key (or, on an open server, a user name); checked with `whoami` before it is kept. */
export function SignIn({ onSignedIn }: { onSignedIn(c: Credentials): void }) {
  const { t } = useI18n();
  const [apiKey, setApiKey] = useState('');
  const [user, setUser] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    const credentials: Credentials = { apiKey: apiKey.trim() || undefined, user: user.trim() || undefined };
    const probe = clientFor(credentials, false);
    try {
      await probe.whoami({ maxRetries: 0 });
      saveCredentials(credentials);
      onSignedIn(credentials);
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <main id="main" className="signin">
      <div className="signin-prefs">
        <Preferences />
      </div>
      <h1>
        {t.appName} · {t.signInTitle}
      </h1>
      <p>{t.signInIntro}</p>
      <form onSubmit={submit} className="stack">
        <label>
          {t.apiKey}
          <input type="password" name="apiKey" autoComplete="current-password" value={apiKey} onChange={(e) => setApiKey(e.target.value)} />
        </label>
        <label>
          {t.userName} <small>({t.userNameHint})</small>
          <input name="user" autoComplete="username" value={user} onChange={(e) => setUser(e.target.value)} />
        </label>
        <button type="submit" disabled={busy} className="primary">
          {t.signIn}
        </button>
        {error && (
          <p role="alert" className="error">
            {error}
          </p>
        )}
      </form>
    </main>
  );
}
