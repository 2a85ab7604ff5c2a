import { useI18n } from '../app/i18n.tsx';
import { useAgents } from './AgentPicker.tsx';

export function AgentsPage() {
  const { t } = useI18n();
  const agents = useAgents();
  return (
    <section className="page">
      <h1>{t.agents}</h1>
      {agents.isPending && <p>{t.checking}</p>}
      {agents.isError && (
        <p role="alert" className="error">
          {agents.error.message}
        </p>
      )}
      <ul className="cards">
        {agents.data?.map((a) => (
          <li key={a.id} className="card">
            <h2>
              {a.id} {a.isDefault && <span className="badge">{t.isDefault}</span>}
            </h2>
            <p className="muted">
              {a.type} — {a.description}
            </p>
            <p className={a.reachable === false ? 'error' : 'ok'} data-testid={`agent-${a.id}-reachable`}>
              {a.reachable === null ? '–' : a.reachable ? `● ${t.reachable}` : `● ${t.unreachable}`}
            </p>
          </li>
        ))}
      </ul>
    </section>
  );
}
