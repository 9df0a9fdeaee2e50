import { useCallback, useEffect, useState } from "react";
import { ApiError, get, post, setCsrf, type SessionInfo, type SystemHealth } from "./api";
import { AdsPage } from "./pages/Ads";
import { GoingLivePage } from "./pages/GoingLive";
import { MetricsPage } from "./pages/Metrics";
import { OrdersPage } from "./pages/Orders";
import { ProductsPage } from "./pages/Products";
import { SupportPage } from "./pages/Support";

const PAGES = [
  { id: "metrics", label: "Metrics" },
  { id: "products", label: "Products" },
  { id: "orders", label: "Orders" },
  { id: "ads", label: "Ads" },
  { id: "support", label: "Customer service" },
  { id: "live", label: "Going live" },
] as const;
type PageId = (typeof PAGES)[number]["id"];

function currentPage(): PageId {
  const id = window.location.hash.replace(/^#\/?/, "").split("/")[0];
  return (PAGES.find((p) => p.id === id)?.id ?? "metrics") as PageId;
}

export interface PageProps {
  onUnauthorized: () => void;
}

export function App() {
  const [session, setSession] = useState<"checking" | "out" | "in">("checking");
  const [page, setPage] = useState<PageId>(currentPage());

  useEffect(() => {
    get<SessionInfo>("/api/session")
      .then((info) => {
        setCsrf(info.csrf_token);
        setSession(info.authenticated ? "in" : "out");
      })
      .catch(() => setSession("out"));
    const onHash = () => setPage(currentPage());
    window.addEventListener("hashchange", onHash);
    return () => window.removeEventListener("hashchange", onHash);
  }, []);

  const onUnauthorized = useCallback(() => {
    setCsrf(null);
    setSession("out");
  }, []);

  if (session === "checking") return <p className="muted center">Loading…</p>;
  if (session === "out") return <Login onLoggedIn={() => setSession("in")} />;

  const logout = async () => {
    await post("/api/logout").catch(() => undefined);
    onUnauthorized();
  };
  return (
    <div className="layout">
      <nav className="nav" aria-label="Pages">
        <strong className="brand">Store dashboard</strong>
        <HealthLight onUnauthorized={onUnauthorized} />
        {PAGES.map((p) => (
          <a key={p.id} href={`#/${p.id}`} className={p.id === page ? "active" : undefined} aria-current={p.id === page ? "page" : undefined}>
            {p.label}
          </a>
        ))}
        <button className="link" onClick={logout}>
          Log out
        </button>
      </nav>
      <main>
        {page === "metrics" && <MetricsPage onUnauthorized={onUnauthorized} />}
        {page === "products" && <ProductsPage onUnauthorized={onUnauthorized} />}
        {page === "orders" && <OrdersPage onUnauthorized={onUnauthorized} />}
        {page === "ads" && <AdsPage onUnauthorized={onUnauthorized} />}
        {page === "support" && <SupportPage onUnauthorized={onUnauthorized} />}
        {page === "live" && <GoingLivePage onUnauthorized={onUnauthorized} />}
      </main>
    </div>
  );
}

const HEALTH_POLL_MS = 30_000;

/** Green, amber or red: failing asset checks, failed or queued runs, API faults; the tooltip says which. */
function HealthLight({ onUnauthorized }: PageProps) {
  const [health, setHealth] = useState<SystemHealth | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    const load = () =>
      get<SystemHealth>("/api/system-health")
        .then((h) => {
          if (!live) return;
          setHealth(h);
          setError(null);
        })
        .catch((err: unknown) => {
          if (!live) return;
          if (err instanceof ApiError && err.status === 401) onUnauthorized();
          setError(err instanceof Error ? err.message : String(err));
        });
    load();
    const timer = window.setInterval(load, HEALTH_POLL_MS);
    return () => {
      live = false;
      window.clearInterval(timer);
    };
  }, [onUnauthorized]);
  const state = error ? "amber" : (health?.state ?? "amber");
  const causes = error ? [`health unknown: ${error}`] : health ? health.causes : ["checking…"];
  const label = { green: "All systems normal", amber: "Needs a look", red: "Something is failing" }[state];
  return (
    <div className={`health health-${state}`} data-testid="system-health" data-state={state} title={causes.length ? causes.join("\n") : "no fault, no failing check, no queued backlog"} aria-label={`System health: ${state}`}>
      <span className="health-dot" aria-hidden="true" />
      <span>{label}</span>
    </div>
  );
}

function Login({ onLoggedIn }: { onLoggedIn: () => void }) {
  const [token, setToken] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (event: React.FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const info = await post<SessionInfo>("/api/login", { token });
      setCsrf(info.csrf_token);
      onLoggedIn();
    } catch (err) {
      setError(err instanceof ApiError && err.status === 401 ? "Wrong token." : `Login failed: ${String(err)}`);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form className="login card" onSubmit={submit}>
      <h1>Store dashboard</h1>
      <label htmlFor="token">Access token</label>
      <input id="token" name="token" type="password" autoComplete="current-password" value={token} onChange={(e) => setToken(e.target.value)} required />
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      <button type="submit" disabled={busy || !token}>
        {busy ? "Logging in…" : "Log in"}
      </button>
    </form>
  );
}
