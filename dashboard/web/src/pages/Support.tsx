import { useState } from "react";
import { post, type ActionResult, type OrderFacts, type Page, type Reply, type Ticket } from "../api";
import type { PageProps } from "../App";
import { RunJob } from "../RunJob";
import { Badge, money, Pager, Section, Table, when, useApi } from "../ui";

export function SupportPage({ onUnauthorized }: PageProps) {
  const [offset, setOffset] = useState(0);
  const status = useApi<{ available: boolean; note: string }>("/api/support/status", onUnauthorized);
  const escalations = useApi<Page<Reply>>("/api/support/escalations?limit=50", onUnauthorized);
  const replies = useApi<Page<Reply>>(`/api/support/replies?limit=25&offset=${offset}`, onUnauthorized);
  const tickets = useApi<Page<Ticket>>("/api/support/tickets?limit=25", onUnauthorized);
  const changed = () => {
    escalations.reload();
    replies.reload();
    tickets.reload();
  };
  return (
    <>
      <div className="page-head">
        <h1>Customer service</h1>
        <RunJob job="customer_service_job" label="Answer messages now" />
      </div>
      {status.data && !status.data.available && <p className="notice">{status.data.note}</p>}
      <Section title="Escalations waiting for you" state={escalations} isEmpty={(d) => d.items.length === 0} empty="No customer is waiting on a human.">
        {(d) => (
          <div className="escalations">
            {d.items.map((r) => (
              <Escalation key={r.reply_key} reply={r} onChanged={changed} />
            ))}
          </div>
        )}
      </Section>
      <Section title="AI replies" state={replies} isEmpty={(d) => d.items.length === 0} empty="No replies yet.">
        {(d) => (
          <>
            <Table
              rows={d.items}
              rowKey={(r) => r.reply_key}
              columns={[
                { label: "Received", render: (r) => when(r.received_at) },
                { label: "Customer", render: (r) => r.customer_email ?? "—" },
                { label: "Subject", render: (r) => r.subject ?? "" },
                { label: "State", render: (r) => <Badge value={r.state} /> },
                { label: "Intent", render: (r) => r.intent ?? "" },
                { label: "Tokens", render: (r) => r.tokens, numeric: true },
                { label: "Reply", render: (r) => <span className="clip">{r.reply_text ?? ""}</span> },
              ]}
            />
            <Pager total={d.total} limit={d.limit} offset={d.offset} onChange={setOffset} />
          </>
        )}
      </Section>
      <Section title="Tickets" state={tickets} isEmpty={(d) => d.items.length === 0} empty="No tickets.">
        {(d) => (
          <Table
            rows={d.items}
            rowKey={(r) => r.ticket_id}
            columns={[
              { label: "Ticket", render: (r) => r.ticket_id },
              { label: "Subject", render: (r) => r.subject },
              { label: "Customer", render: (r) => r.customer_email ?? "—" },
              { label: "Status", render: (r) => <Badge value={r.status} /> },
              { label: "Last message", render: (r) => when(r.last_received_at) },
              { label: "Replies", render: (r) => r.replies, numeric: true },
              { label: "Escalated", render: (r) => r.escalated, numeric: true },
            ]}
          />
        )}
      </Section>
    </>
  );
}

// A 422 from the last gate carries {message, reasons}: show the reasons, not the JSON.
function refusal(message: string): string {
  try {
    const detail = JSON.parse(message) as { message?: string; reasons?: string[] };
    if (detail.reasons?.length) return `${detail.message ?? "refused"}: ${detail.reasons.join("; ")}`;
  } catch {
    // not JSON: the message as the API gave it
  }
  return message;
}

function Escalation({ reply, onChanged }: { reply: Reply; onChanged: () => void }) {
  const draft = reply.decision_text ?? reply.reply_text ?? "";
  const [text, setText] = useState(draft);
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<string | null>(null);
  // "done": the support workflow sent it; "recorded": approved, but no send function is deployed yet.
  const approved = reply.decision === "approve" && reply.decision_status !== "failed";
  const sent = approved && reply.decision_status === "done";
  const act = async (kind: "edit" | "approve") => {
    setBusy(true);
    setResult(null);
    try {
      const r = await post<ActionResult>(`/api/support/escalations/${encodeURIComponent(reply.reply_key)}/${kind}`, { text });
      setResult(r.message);
      onChanged();
    } catch (err) {
      setResult(`Failed: ${refusal(err instanceof Error ? err.message : String(err))}`);
    } finally {
      setBusy(false);
    }
  };
  return (
    <article className="escalation" aria-label={`Escalation ${reply.reply_key}`}>
      <header>
        <strong>{reply.subject || "(no subject)"}</strong> · {reply.customer_email ?? "unknown customer"} · {when(reply.received_at)} ·{" "}
        {reply.tokens} tokens
      </header>
      <p className="why">
        Escalated because: <em data-testid="escalation-reason">{reply.reason_text ?? reply.reason ?? "no reason recorded"}</em>
      </p>
      {reply.order ? <OrderFactsList order={reply.order} /> : <p className="small muted">{reply.order_name ? `Order ${reply.order_name} is not in the ledger.` : "No order identified for this message."}</p>}
      {reply.gate_reasons.length > 0 && (
        <div className="why" data-testid="gate-reasons">
          The draft was refused by the last check before sending:
          <ul>
            {reply.gate_reasons.map((reason) => (
              <li key={reason}>{reason}</li>
            ))}
          </ul>
        </div>
      )}
      {reply.customer_message && <blockquote>{reply.customer_message}</blockquote>}
      {reply.draft != null && (
        <details data-testid="ai-draft">
          <summary>The AI's draft (what it named: facts, policy, actions)</summary>
          <pre className="small">{JSON.stringify(reply.draft, null, 2)}</pre>
        </details>
      )}
      <label htmlFor={`reply-${reply.reply_key}`}>Reply to send</label>
      <textarea id={`reply-${reply.reply_key}`} rows={5} value={text} onChange={(e) => setText(e.target.value)} disabled={approved} />
      <div className="buttons">
        <button onClick={() => act("edit")} disabled={busy || approved || !text.trim() || text === draft}>
          Save edit
        </button>
        <button className="primary" onClick={() => act("approve")} disabled={busy || approved || !text.trim()}>
          Approve and send
        </button>
        {approved && (
          <span className={`badge badge-${sent ? "sent" : "approved"}`} data-testid="reply-outcome">
            {sent ? "sent" : "approved, not sent yet"}
          </span>
        )}
        {reply.decision === "approve" && reply.decision_status === "failed" && (
          <span className="badge badge-failed" data-testid="reply-outcome">
            sending failed, approve again to retry
          </span>
        )}
      </div>
      {result && <p className="small" role="status">{result}</p>}
    </article>
  );
}

/** What the ledger knows of the order the customer writes about: the operator answers from these facts. */
function OrderFactsList({ order }: { order: OrderFacts }) {
  return (
    <dl className="facts" aria-label={`Order ${order.name}`}>
      <dt>Order</dt>
      <dd>{order.name}</dd>
      <dt>Placed</dt>
      <dd>{when(order.placed_at)}</dd>
      <dt>Total</dt>
      <dd>{money(order.total_price)}</dd>
      <dt>Status</dt>
      <dd>
        <Badge value={order.state} />
      </dd>
      <dt>Payment</dt>
      <dd>{order.financial_status}</dd>
      <dt>Supplier</dt>
      <dd>{order.supplier_status ?? "not placed"}</dd>
      <dt>Tracking</dt>
      <dd>{order.track_number ? `${order.carrier ?? ""} ${order.track_number}`.trim() : "none yet"}</dd>
      {order.problem && (
        <>
          <dt>Held</dt>
          <dd className="neg">{order.problem}</dd>
        </>
      )}
    </dl>
  );
}
