import { useState } from "react";
import { post, type ActionResult } from "../api";
import { Badge, money, Section, Table, when, useApi } from "../ui";

// GET /api/holds (dashboard/api/routes/holds.py): orders the gate held at the store before the supplier was paid.
interface HoldRow {
  order_id: string;
  order_name: string;
  state: string;
  reason: string; // Shopify FulfillmentHoldReason
  note: string;
  last_error: string | null;
  total_price: string | null;
  currency: string | null;
  country_code: string | null;
  held_at: string;
  actions: ("release" | "cancel")[];
}

const REASONS: Record<string, string> = {
  HIGH_RISK_OF_FRAUD: "fraud risk",
  INCORRECT_ADDRESS: "address",
  INVENTORY_OUT_OF_STOCK: "out of stock",
  OTHER: "landed cost",
};

/** The order gate's holds on the Orders page: the reason, and release (send to the supplier) or cancel. */
export function HoldsPanel({ onUnauthorized }: { onUnauthorized: () => void }) {
  const holds = useApi<{ holds: HoldRow[] }>("/api/holds", onUnauthorized);
  const [message, setMessage] = useState<string | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  // Each decision is claimed in the ledger before the store is called: a second click does nothing more.
  const decide = async (hold: HoldRow, action: "release" | "cancel") => {
    const ask =
      action === "release"
        ? `Release ${hold.order_name}? The supplier is paid on the next fulfillment run.`
        : `Cancel order ${hold.order_name} and refund the customer?`;
    if (!window.confirm(ask)) return;
    setBusy(`${hold.order_id}:${action}`);
    try {
      const result = await post<ActionResult>(`/api/holds/${encodeURIComponent(hold.order_id)}/${action}`);
      setMessage(`${hold.order_name}: ${result.message}`);
    } catch (err) {
      setMessage(`${hold.order_name}: not done: ${err instanceof Error ? err.message : String(err)}`);
    } finally {
      setBusy(null);
    }
    holds.reload();
  };
  return (
    <Section title="Held before paying the supplier" state={holds} isEmpty={(d) => d.holds.length === 0} empty="No order is held by the gate.">
      {(d) => (
        <>
          {message && <p className="muted">{message}</p>}
          <Table
            rows={d.holds}
            rowKey={(h) => h.order_id}
            columns={[
              { label: "Order", render: (h: HoldRow) => h.order_name },
              { label: "Held", render: (h: HoldRow) => when(h.held_at) },
              { label: "Reason", render: (h: HoldRow) => <Badge value={REASONS[h.reason] ?? h.reason} /> },
              { label: "Why", render: (h: HoldRow) => (h.last_error ? `${h.note} (store: ${h.last_error})` : h.note) },
              { label: "Total", render: (h: HoldRow) => money(h.total_price), numeric: true },
              {
                label: "",
                render: (h: HoldRow) =>
                  h.actions.map((action) => (
                    <button key={action} disabled={busy !== null} onClick={() => void decide(h, action)}>
                      {action === "release" ? "Release" : "Cancel"}
                    </button>
                  )),
              },
            ]}
          />
        </>
      )}
    </Section>
  );
}
