import { Badge, money, Section, Table, when, useApi } from "../ui";

// GET /api/tracking/stalls and /api/tracking/profit (dashboard/api/routes/tracking.py).
interface StalledParcel {
  order_id: string;
  order_name: string | null;
  order_number: string;
  track_number: string | null;
  carrier_status: string | null;
  stall: string;
  stalled_since: string | null;
  last_scan_at: string | null;
  failure_reported_at: string | null;
  failure_outcome: string | null;
}

interface Stalls {
  items: StalledParcel[];
  by_stall: Record<string, number>;
}

interface OrderProfit {
  order_id: string;
  day: string;
  gateway: string | null;
  revenue: string;
  product_cost: string;
  shipping_cost: string;
  payment_fees: string;
  refunds: string;
  chargebacks: string;
  supplier_refunds: string;
  profit: string;
  cost_estimated: boolean;
}

interface ProfitPage {
  start: string;
  end: string;
  orders: number;
  totals: Record<string, string>;
  items: OrderProfit[];
}

const STALL_LABELS: Record<string, string> = {
  no_tracking: "no tracking yet",
  no_scan: "no carrier scan",
  lost: "lost",
};

/** Stalled and lost parcels, and true profit per order, on the Orders page. */
export function TrackingPanel({ onUnauthorized }: { onUnauthorized: () => void }) {
  const stalls = useApi<Stalls>("/api/tracking/stalls", onUnauthorized);
  const profit = useApi<ProfitPage>("/api/tracking/profit?limit=20", onUnauthorized);
  return (
    <>
      <Section title="Stalled parcels" state={stalls} isEmpty={(d) => d.items.length === 0} empty="Every parcel is moving.">
        {(d) => (
          <>
            <p className="muted">
              {Object.entries(d.by_stall)
                .map(([stall, count]) => `${count} ${STALL_LABELS[stall] ?? stall}`)
                .join(" · ")}
            </p>
            <Table
              rows={d.items}
              rowKey={(r) => r.order_id}
              columns={[
                { label: "Order", render: (r: StalledParcel) => r.order_name ?? r.order_id },
                { label: "Stall", render: (r: StalledParcel) => <Badge value={STALL_LABELS[r.stall] ?? r.stall} /> },
                { label: "Since", render: (r: StalledParcel) => when(r.stalled_since) },
                { label: "Tracking", render: (r: StalledParcel) => r.track_number ?? "—" },
                { label: "Carrier says", render: (r: StalledParcel) => r.carrier_status ?? "—" },
                { label: "Last scan", render: (r: StalledParcel) => when(r.last_scan_at) },
                {
                  label: "Refund and dispute",
                  render: (r: StalledParcel) => (r.failure_reported_at ? when(r.failure_reported_at) : r.failure_outcome ?? "—"),
                },
              ]}
            />
          </>
        )}
      </Section>
      <Section title="True profit per order" state={profit} isEmpty={(d) => d.orders === 0} empty="No order in the last 30 days.">
        {(d) => (
          <>
            <p className="muted">
              {d.orders} orders {d.start} to {d.end}: revenue {money(d.totals.revenue)} · supplier {money(d.totals.product_cost)} + shipping{" "}
              {money(d.totals.shipping_cost)} · fees {money(d.totals.payment_fees)} · refunds {money(d.totals.refunds)} · chargebacks{" "}
              {money(d.totals.chargebacks)} · back from the supplier {money(d.totals.supplier_refunds)} · profit before ads{" "}
              <span className={Number(d.totals.profit) < 0 ? "neg" : ""}>{money(d.totals.profit)}</span>
            </p>
            <Table
              rows={d.items}
              rowKey={(r) => r.order_id}
              columns={[
                { label: "Order", render: (r: OrderProfit) => r.order_id.split("/").pop() ?? r.order_id },
                { label: "Day", render: (r: OrderProfit) => r.day },
                { label: "Gateway", render: (r: OrderProfit) => r.gateway ?? "—" },
                { label: "Revenue", render: (r: OrderProfit) => money(r.revenue), numeric: true },
                { label: "Supplier", render: (r: OrderProfit) => money(r.product_cost) + (r.cost_estimated ? " (est.)" : ""), numeric: true },
                { label: "Shipping", render: (r: OrderProfit) => money(r.shipping_cost), numeric: true },
                { label: "Fees", render: (r: OrderProfit) => money(r.payment_fees), numeric: true },
                { label: "Refunds", render: (r: OrderProfit) => money(r.refunds), numeric: true },
                { label: "Chargebacks", render: (r: OrderProfit) => money(r.chargebacks), numeric: true },
                {
                  label: "Profit",
                  render: (r: OrderProfit) => <span className={Number(r.profit) < 0 ? "neg" : ""}>{money(r.profit)}</span>,
                  numeric: true,
                },
              ]}
            />
          </>
        )}
      </Section>
    </>
  );
}
