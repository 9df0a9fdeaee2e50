import { useCallback, useEffect, useState, type ReactNode } from "react";
import { ApiError, get } from "./api";

export interface Loaded<T> {
  data: T | null;
  error: string | null;
  loading: boolean;
  reload: () => void;
}

/** GET `path` whenever it changes; `onUnauthorized` sends the user back to the login page. */
export function useApi<T>(path: string, onUnauthorized: () => void): Loaded<T> {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    setLoading(true);
    setError(null);
    get<T>(path)
      .then((value) => live && setData(value))
      .catch((err: unknown) => {
        if (!live) return;
        if (err instanceof ApiError && err.status === 401) onUnauthorized();
        setError(err instanceof Error ? err.message : String(err));
      })
      .finally(() => live && setLoading(false));
    return () => {
      live = false;
    };
  }, [path, tick, onUnauthorized]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { data, error, loading, reload };
}

export function money(value: string | number | null | undefined): string {
  if (value === null || value === undefined || value === "") return "—";
  const n = Number(value);
  return n.toLocaleString("en-US", { style: "currency", currency: "USD" });
}

export function ratio(value: number | null | undefined, percent = false): string {
  if (value === null || value === undefined) return "—";
  return percent ? `${(value * 100).toFixed(1)} %` : value.toFixed(2);
}

export function when(value: string | null | undefined): string {
  if (!value) return "—";
  return value.replace("T", " ").slice(0, 16);
}

/** Loading, error and empty states around a section's content. */
export function Section<T>(props: {
  title: string;
  state: Loaded<T>;
  isEmpty?: (data: T) => boolean;
  empty?: string;
  actions?: ReactNode;
  children: (data: T) => ReactNode;
}) {
  const { title, state, isEmpty, empty, actions, children } = props;
  let body: ReactNode;
  if (state.loading && state.data === null) body = <p className="muted" role="status">Loading…</p>;
  else if (state.error)
    body = (
      <div className="error" role="alert">
        Could not load: {state.error} <button onClick={state.reload}>Retry</button>
      </div>
    );
  else if (state.data === null || (isEmpty && isEmpty(state.data)))
    body = <p className="empty">{empty ?? "Nothing here yet."}</p>;
  else body = children(state.data);
  return (
    <section className="card" aria-label={title}>
      <header className="section-head">
        <h2>{title}</h2>
        {actions}
      </header>
      {body}
    </section>
  );
}

export interface Column<T> {
  label: string;
  render: (row: T) => ReactNode;
  numeric?: boolean;
}

export function Table<T>({ rows, columns, rowKey }: { rows: T[]; columns: Column<T>[]; rowKey: (row: T) => string }) {
  return (
    <div className="table-wrap">
      <table>
        <thead>
          <tr>
            {columns.map((c) => (
              <th key={c.label} className={c.numeric ? "num" : undefined}>
                {c.label}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr key={rowKey(row)}>
              {columns.map((c) => (
                <td key={c.label} className={c.numeric ? "num" : undefined}>
                  {c.render(row)}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

// `exact` false: the API stopped counting at `total` ("10,000+"); pages past it are still there (Next).
export function Pager({ total, limit, offset, onChange, exact = true }: { total: number; limit: number; offset: number; onChange: (offset: number) => void; exact?: boolean }) {
  if (exact && total <= limit) return <p className="muted small">{total} row(s)</p>;
  return (
    <div className="pager">
      <button disabled={offset === 0} onClick={() => onChange(Math.max(0, offset - limit))}>
        ← Previous
      </button>
      <span>
        {offset + 1}–{exact ? Math.min(offset + limit, total) : offset + limit} of {exact ? total : `${total.toLocaleString()}+`}
      </span>
      <button disabled={exact && offset + limit >= total} onClick={() => onChange(offset + limit)}>
        Next →
      </button>
    </div>
  );
}

export function Badge({ value }: { value: string | null | undefined }) {
  if (!value) return <span className="muted">—</span>;
  return <span className={`badge badge-${value.toLowerCase()}`}>{value}</span>;
}

/** A product by its listing title, linked to its row on the Products page; the id when it has no title. */
export function ProductLink({ pid, title }: { pid: string | null | undefined; title: string | null | undefined }) {
  if (!pid) return <span className="muted">—</span>;
  return (
    <a href={`#/products/${encodeURIComponent(pid)}`} title={`product ${pid}`}>
      {title ?? pid}
    </a>
  );
}

/** The pid after the page in the address ("#/products/P1" -> "P1"), if any. */
export function hashDetail(): string | null {
  const [, detail] = window.location.hash.replace(/^#\/?/, "").split("/");
  return detail ? decodeURIComponent(detail) : null;
}
