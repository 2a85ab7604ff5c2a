import { useQuery } from '@tanstack/react-query';
import { useI18n } from '../app/i18n.tsx';
import { useSession } from '../app/session.tsx';

export const useAgents = () => {
  const { client } = useSession();
  return useQuery({ queryKey: ['agents'], queryFn: () => client.agents.list(), staleTime: 30_000 });
};

/** The agent a new conversation runs on; each option says whether its upstream answers. */
export function AgentPicker({ value, onChange }: { value: string | undefined; onChange(id: string | undefined): void }) {
  const { t } = useI18n();
  const agents = useAgents();
  const reach = (r: boolean | null) => (r === null ? '' : r ? ` — ${t.reachable}` : ` — ${t.unreachable}`);
  return (
    <label className="agent-picker">
      {t.agent}{' '}
      <select value={value ?? ''} onChange={(e) => onChange(e.target.value || undefined)}>
        {(agents.data ?? []).map((a) => (
          <option key={a.id} value={a.isDefault && value === undefined ? '' : a.id}>
            {a.id}
            {a.isDefault ? ` (${t.isDefault})` : ''}
            {reach(a.reachable)}
          </option>
        ))}
      </select>
    </label>
  );
}
