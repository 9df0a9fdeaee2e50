import { useState } from "react";
import { post } from "./api";

/** "Run now": launches a Dagster job through the dashboard API. */
export function RunJob({ job, label }: { job: string; label: string }) {
  const [message, setMessage] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const run = async () => {
    setBusy(true);
    setMessage(null);
    try {
      const result = await post<{ run_id: string }>(`/api/runs/${encodeURIComponent(job)}`);
      setMessage(`Run ${result.run_id.slice(0, 8)} launched`);
    } catch (err) {
      setMessage(`Not launched: ${err instanceof Error ? err.message : String(err)}`);
    } finally {
      setBusy(false);
    }
  };
  return (
    <span className="run-job">
      <button onClick={run} disabled={busy} title={`Launch ${job} now`}>
        {busy ? "Launching…" : label}
      </button>
      {message && <span className="small muted" role="status">{message}</span>}
    </span>
  );
}
