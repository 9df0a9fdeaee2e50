import { Badge, money, Section, Table, when, useApi } from "../ui";

// GET /api/refunds (dashboard/api/routes/refunds.py): the money that went back and the cases for a human.
interface RefundRow {
  order_id: string;
  order_name: string | null;
  kind: string;
  status: string | null;
  amount: string;
  currency: string;
  presentment_amount: string | null;
  presentment_currency: string | null;
  fee: string | null;
  reason: string | null;
  occurred_at: string;
}

interface CaseRow {
  order_id: string;
  order_name: string | null;
  side: string;
  reason: string;
  decision: string | null;
  state: string;
  escalation: string | null;
  known_at: string;
}

interface RefundsView {
  totals: { refunds: string; chargebacks: string; chargeback_fees: string; supplier_refunds: string; orders: number };
  recent: RefundRow[];
  needs_a_human: CaseRow[];
  open_cases: number;
  cases: Record<string, number>;
}

/** Refunds, chargebacks and supplier failures on the Orders page. */
export function RefundsPanel({ onUnauthorized }: { onUnauthorized: () => void }) {
  const view = useApi<RefundsView>("/api/refunds", onUnauthorized);
  return (
    <>
      <Section title="Refunds and chargebacks" state={view} isEmpty={(d) => d.recent.length === 0} empty="No money went back.">
        {(d) => (
          <>
            <p className="muted">
              Refunded {money(d.totals.refunds)} · charged back {money(d.totals.chargebacks)} (fees {money(d.totals.chargeback_fees)}) ·
              back from the supplier {money(d.totals.supplier_refunds)} · {d.totals.orders} orders · {d.open_cases} cases open
            </p>
            <Table
              rows={d.recent}
              rowKey={(r) => `${r.kind}:${r.order_id}:${r.occurred_at}:${r.amount}`}
              columns={[
                { label: "Order", render: (r: RefundRow) => r.order_name ?? r.order_id },
                { label: "When", render: (r: RefundRow) => when(r.occurred_at) },
                { label: "Kind", render: (r: RefundRow) => <Badge value={r.kind} /> },
                { label: "Amount", render: (r: RefundRow) => money(r.amount), numeric: true },
                {
                  label: "Customer paid in",
                  render: (r: RefundRow) => (r.presentment_amount ? `${r.presentment_amount} ${r.presentment_currency ?? ""}` : "—"),
                },
                { label: "Status", render: (r: RefundRow) => r.status ?? "—" },
                { label: "Reason", render: (r: RefundRow) => r.reason ?? "—" },
              ]}
            />
          </>
        )}
      </Section>
      {view.data && view.data.needs_a_human.length > 0 && (
        <Section title="Cancellations and supplier failures for a human" state={view}>
          {(d) => (
            <Table
              rows={d.needs_a_human}
              rowKey={(r) => `${r.side}:${r.order_id}:${r.reason}`}
              columns={[
                { label: "Order", render: (r: CaseRow) => r.order_name ?? r.order_id },
                { label: "Known", render: (r: CaseRow) => when(r.known_at) },
                { label: "Side", render: (r: CaseRow) => r.side },
                { label: "Reason", render: (r: CaseRow) => r.reason.replace(/_/g, " ") },
                { label: "Why", render: (r: CaseRow) => <span className="neg">{r.escalation ?? "—"}</span> },
              ]}
            />
          )}
        </Section>
      )}
    </>
  );
}
