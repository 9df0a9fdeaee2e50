import { useState } from "react";
import { ApiError, post } from "../api";
import type { PageProps } from "../App";
import { Badge, Section, Table, useApi, when } from "../ui";

interface ReadinessRow {
  area: string;
  check: string;
  status: "ok" | "warn" | "fail";
  detail: string;
  fix: string;
}
interface Readiness {
  ready: boolean;
  failed: number;
  rows: ReadinessRow[];
}
interface ShadowWrite {
  seq: number;
  service: string;
  operation: string;
  summary: unknown;
  run_id: string | null;
  created_at: string;
}
interface ShadowWrites {
  mode: string;
  items: ShadowWrite[];
  counts: { service: string; operation: string; count: number }[];
  next_before: number | null;
}

/** Going live: the preflight (read-only checks of every service, with the fix for each failure) and
 * shadow mode's ledger of the writes the workflows would have made. */
export function GoingLivePage({ onUnauthorized }: PageProps) {
  const [readiness, setReadiness] = useState<Readiness | null>(null);
  const [running, setRunning] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const shadow = useApi<ShadowWrites>("/api/shadow-writes?limit=100", onUnauthorized);
  const runPreflight = async () => {
    setRunning(true);
    setError(null);
    try {
      setReadiness(await post<Readiness>("/api/preflight"));
    } catch (err: unknown) {
      if (err instanceof ApiError && err.status === 401) onUnauthorized();
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setRunning(false);
    }
  };
  return (
    <>
      <div className="page-head">
        <h1>Going live</h1>
        <button onClick={runPreflight} disabled={running} data-testid="run-preflight">
          {running ? "Checking…" : "Run preflight"}
        </button>
      </div>
      {error && (
        <div className="error" role="alert">
          Preflight failed to run: {error}
        </div>
      )}
      {readiness && (
        <section className="card" aria-label="Readiness">
          <header className="section-head">
            <h2>{readiness.ready ? "Ready" : `Not ready: ${readiness.failed} failed`}</h2>
          </header>
          <Table
            rows={readiness.rows}
            rowKey={(r) => `${r.area}/${r.check}`}
            columns={[
              { label: "Area", render: (r) => r.area },
              { label: "Check", render: (r) => r.check },
              { label: "Status", render: (r) => <Badge value={r.status} /> },
              { label: "Found", render: (r) => r.detail },
              { label: "Fix", render: (r) => r.fix || "—" },
            ]}
          />
        </section>
      )}
      <Section
        title="Shadow writes (what shadow mode held back)"
        state={shadow}
        isEmpty={(d) => d.items.length === 0}
        empty="No write held back: the workflows run live (DROPSHIP_WRITE_MODE=shadow records them here instead)."
      >
        {(d) => (
          <>
            <p className="muted">
              {d.counts.map((c) => `${c.service} ${c.operation}: ${c.count}`).join(" · ")}
            </p>
            <Table
              rows={d.items}
              rowKey={(r) => String(r.seq)}
              columns={[
                { label: "When", render: (r) => when(r.created_at) },
                { label: "Service", render: (r) => r.service },
                { label: "Operation", render: (r) => r.operation },
                { label: "Payload", render: (r) => <code className="payload">{JSON.stringify(r.summary).slice(0, 300)}</code> },
                { label: "Run", render: (r) => (r.run_id ? r.run_id.slice(0, 8) : "—") },
              ]}
            />
          </>
        )}
      </Section>
    </>
  );
}
