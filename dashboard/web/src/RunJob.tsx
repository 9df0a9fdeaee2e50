import { useEffect, useRef, useState } from "react";
import { ApiError, get, post, type RunStatus } from "./api";

const POLL_MS = 1500;

/** "Run now": launches a Dagster job through the dashboard API, then follows the run until it ends and
 * calls `onFinished` (the page reloads its data: what the run computed is on screen without a refresh). */
export function RunJob({ job, label, onFinished }: { job: string; label: string; onFinished?: (status: string) => void }) {
  const [message, setMessage] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [runId, setRunId] = useState<string | null>(null);
  const finished = useRef(onFinished);
  finished.current = onFinished;

  useEffect(() => {
    if (!runId) return;
    let live = true;
    let timer: number | undefined;
    const poll = async () => {
      try {
        const run = await get<RunStatus>(`/api/runs/${encodeURIComponent(runId)}/status`);
        if (!live) return;
        if (run.finished) {
          setMessage(`Run ${runId.slice(0, 8)} ${run.status === "SUCCESS" ? "finished" : run.status.toLowerCase()}; data reloaded`);
          setRunId(null);
          finished.current?.(run.status);
          return;
        }
        setMessage(`Run ${runId.slice(0, 8)} ${run.status.toLowerCase()}…`);
      } catch (err) {
        if (!live) return;
        setMessage(`Run ${runId.slice(0, 8)} launched; its status is unknown (${err instanceof Error ? err.message : String(err)})`);
        if (err instanceof ApiError && err.status === 404) {
          setRunId(null); // this dashboard cannot follow the run: stop asking
          return;
        }
      }
      timer = window.setTimeout(poll, POLL_MS);
    };
    timer = window.setTimeout(poll, POLL_MS);
    return () => {
      live = false;
      window.clearTimeout(timer);
    };
  }, [runId]);

  const run = async () => {
    setBusy(true);
    setMessage(null);
    try {
      const result = await post<{ run_id: string }>(`/api/runs/${encodeURIComponent(job)}`);
      setMessage(`Run ${result.run_id.slice(0, 8)} launched`);
      setRunId(result.run_id);
    } catch (err) {
      setMessage(`Not launched: ${err instanceof Error ? err.message : String(err)}`);
    } finally {
      setBusy(false);
    }
  };
  return (
    <span className="run-job">
      <button onClick={run} disabled={busy || runId !== null} title={`Launch ${job} now`}>
        {busy ? "Launching…" : runId ? "Running…" : label}
      </button>
      {message && <span className="small muted" role="status">{message}</span>}
    </span>
  );
}
