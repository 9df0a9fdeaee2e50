import { useState } from "react";
import { post, type ActionResult, type Order, type Page } from "../api";
import type { PageProps } from "../App";
import { RunJob } from "../RunJob";
import { HoldsPanel } from "./Holds";
import { RefundsPanel } from "./Refunds";
import { TrackingPanel } from "./Tracking";
import { Badge, money, Pager, Section, Table, when, useApi } from "../ui";

const ORDER_COLUMNS = [
  { label: "Order", render: (r: Order) => r.name },
  { label: "Placed", render: (r: Order) => when(r.placed_at) },
  { label: "Customer", render: (r: Order) => r.customer_name ?? "—" },
  { label: "Total", render: (r: Order) => money(r.total_price), numeric: true },
  { label: "Status", render: (r: Order) => <Badge value={r.state} /> },
  { label: "Supplier", render: (r: Order) => r.supplier_status ?? "—" },
  {
    label: "Tracking",
    render: (r: Order) =>
      r.track_number ? (
        r.tracking_url ? (
          <a href={r.tracking_url} target="_blank" rel="noreferrer noopener">
            {r.track_number}
          </a>
        ) : (
          r.track_number
        )
      ) : (
        "—"
      ),
  },
  { label: "Source", render: (r: Order) => r.source },
];

export function OrdersPage({ onUnauthorized }: PageProps) {
  const [state, setState] = useState("");
  const [start, setStart] = useState("");
  const [end, setEnd] = useState("");
  const [offset, setOffset] = useState(0);
  const params = new URLSearchParams({ limit: "25", offset: String(offset) });
  if (state) params.set("state", state);
  if (start) params.set("start", start);
  if (end) params.set("end", end);
  const attention = useApi<Page<Order>>("/api/orders?needs_attention=true&limit=50", onUnauthorized);
  const orders = useApi<Page<Order>>(`/api/orders?${params}`, onUnauthorized);
  const [message, setMessage] = useState<string | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  // Retry once the cause is fixed (the fulfillment run places it, or holds it again saying why); cancel
  // refunds the customer. Each is claimed in the ledger: a second click does nothing more.
  const act = async (order: Order, action: "retry" | "cancel") => {
    if (action === "cancel" && !window.confirm(`Cancel order ${order.name} and refund the customer?`)) return;
    setBusy(`${order.order_id}:${action}`);
    try {
      const result = await post<ActionResult>(`/api/orders/${encodeURIComponent(order.order_id)}/${action}`);
      setMessage(`${order.name}: ${result.message}`);
    } catch (err) {
      setMessage(`${order.name}: not done: ${err instanceof Error ? err.message : String(err)}`);
    } finally {
      setBusy(null);
    }
    attention.reload();
    orders.reload();
  };
  return (
    <>
      <div className="page-head">
        <h1>Orders</h1>
        <RunJob job="order_fulfillment_job" label="Run fulfillment" />
      </div>
      {message && (
        <p className="notice" role="status">
          {message}
        </p>
      )}
      <Section title="Needs attention" state={attention} isEmpty={(d) => d.items.length === 0} empty="No order needs attention.">
        {(d) => (
          <Table
            rows={d.items}
            rowKey={(r) => r.order_id}
            columns={[
              ...ORDER_COLUMNS.slice(0, 5),
              { label: "Problem", render: (r: Order) => <span className="neg">{r.problem ?? r.supplier_error ?? "fulfillment failed"}</span> },
              {
                label: "Actions",
                render: (r: Order) => (
                  <span className="order-actions">
                    {r.actions.includes("retry") && (
                      <button onClick={() => act(r, "retry")} disabled={busy !== null} title="Place it again, now that the cause is fixed">
                        Retry
                      </button>
                    )}
                    {r.actions.includes("cancel") && (
                      <button onClick={() => act(r, "cancel")} disabled={busy !== null} title="Cancel at the store and refund the customer">
                        Cancel order
                      </button>
                    )}
                  </span>
                ),
              },
            ]}
          />
        )}
      </Section>
      <Section
        title="All orders"
        state={orders}
        isEmpty={(d) => d.items.length === 0}
        empty="No orders match."
        actions={
          <span className="filters">
            <select aria-label="Order status" value={state} onChange={(e) => { setState(e.target.value); setOffset(0); }}>
              <option value="">All statuses</option>
              {["new", "sent", "shipped", "problem", "cancelled"].map((s) => (
                <option key={s} value={s}>
                  {s}
                </option>
              ))}
            </select>
            <label>
              From <input type="date" value={start} onChange={(e) => { setStart(e.target.value); setOffset(0); }} aria-label="From" />
            </label>
            <label>
              To <input type="date" value={end} onChange={(e) => { setEnd(e.target.value); setOffset(0); }} aria-label="To" />
            </label>
          </span>
        }
      >
        {(d) => (
          <>
            <Table rows={d.items} rowKey={(r) => r.order_id} columns={ORDER_COLUMNS} />
            <Pager total={d.total} limit={d.limit} offset={d.offset} onChange={setOffset} exact={d.total_exact ?? true} />
          </>
        )}
      </Section>
      <HoldsPanel onUnauthorized={onUnauthorized} />
      <RefundsPanel onUnauthorized={onUnauthorized} />
      <TrackingPanel onUnauthorized={onUnauthorized} />
    </>
  );
}
