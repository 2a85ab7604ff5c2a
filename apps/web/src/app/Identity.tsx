import { useQuery } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { useI18n } from './i18n.tsx';
import { useSession } from './session.tsx';

/** Who you are (always shown), the user switcher (admin keys and open mode), and sign out. */
export function Identity() {
  const { t } = useI18n();
  const { me, credentials, client, actAs, signOut } = useSession();
  const canSwitch = me?.role === 'admin' || me?.role === 'open';
  const [editing, setEditing] = useState(false);
  const [draft, setDraft] = useState(credentials.user ?? '');
  // Users to suggest: the owners of the conversations an all-seeing caller can list.
  const users = useQuery({
    queryKey: ['known-users'],
    enabled: editing && canSwitch,
    queryFn: async () => {
      const page = await client.conversations.list({ limit: 100 });
      return [...new Set(page.items.map((c) => c.userId))].sort();
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setEditing(false);
    actAs(draft.trim() || undefined);
  };
  const who = me ? (me.user ?? t.allUsers) : '…';
  return (
    <div className="identity">
      <span data-testid="whoami">
        {t.signedInAs} <strong>{who}</strong>
        {me && <span className="badge">{t.role[me.role] ?? me.role}</span>}
      </span>
      {canSwitch &&
        (editing ? (
          <form onSubmit={submit} className="switcher">
            <label>
              <span className="sr-only">{t.actAs}</span>
              <input list="known-users" value={draft} onChange={(e) => setDraft(e.target.value)} placeholder={t.actAsAll} aria-label={t.actAs} />
            </label>
            <datalist id="known-users">{users.data?.map((u) => <option key={u} value={u} />)}</datalist>
            <button type="submit">{t.apply}</button>
          </form>
        ) : (
          <button type="button" onClick={() => setEditing(true)}>
            {t.actAs}
          </button>
        ))}
      <button type="button" onClick={signOut}>
        {t.signOut}
      </button>
    </div>
  );
}
