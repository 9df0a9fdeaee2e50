import { useState } from "react";
import { post, type ActionResult, type AdAction, type Campaign, type Page } from "../api";
import type { PageProps } from "../App";
import { RunJob } from "../RunJob";
import { Badge, money, Pager, ProductLink, ratio, Section, Table, when, useApi } from "../ui";

export function AdsPage({ onUnauthorized }: PageProps) {
  const [offset, setOffset] = useState(0);
  const [actionsOffset, setActionsOffset] = useState(0);
  const [message, setMessage] = useState<string | null>(null);
  const campaigns = useApi<Page<Campaign>>(`/api/ads/campaigns?limit=25&offset=${offset}`, onUnauthorized);
  const actions = useApi<Page<AdAction>>(`/api/ads/actions?limit=25&offset=${actionsOffset}`, onUnauthorized);
  const pause = async (c: Campaign) => {
    if (!c.campaign_id || !window.confirm(`Pause ${c.platform} campaign for ${c.title ?? c.pid}?`)) return;
    try {
      const result = await post<ActionResult>(`/api/ads/campaigns/${encodeURIComponent(c.platform)}/${encodeURIComponent(c.campaign_id)}/pause`, {
        reason: "paused by the operator from the dashboard",
      });
      setMessage(result.message);
    } catch (err) {
      setMessage(`Not paused: ${err instanceof Error ? err.message : String(err)}`);
    }
    campaigns.reload();
    actions.reload();
  };
  return (
    <>
      <div className="page-head">
        <h1>Ads</h1>
        <RunJob job="ad_optimization_job" label="Run ad optimisation" />
      </div>
      {message && <p className="notice" role="status">{message}</p>}
      <Section title="Campaigns" state={campaigns} isEmpty={(d) => d.items.length === 0} empty="No campaigns yet.">
        {(d) => (
          <>
            <Table
              rows={d.items}
              rowKey={(r) => `${r.platform}:${r.pid}`}
              columns={[
                { label: "Product", render: (r) => <ProductLink pid={r.pid} title={r.title} /> },
                {
                  label: "Creative",
                  render: (r) =>
                    r.video_url ? (
                      <video className="creative" src={r.video_url} controls muted preload="metadata" aria-label={`Ad video of ${r.title ?? r.pid}`} />
                    ) : (
                      <span className="muted small">no video</span>
                    ),
                },
                {
                  label: "Creative test",
                  render: (r) =>
                    r.creative_test ? (
                      <span className="small">
                        {r.creative_test.variants.map((v) => (
                          <span key={v.variant} className={v.state === "paused" ? "muted" : undefined}>
                            {v.variant === "a" ? "A problem-first" : "B price-first"}: {v.clicks} clicks, {v.purchases} sales
                            {r.creative_test?.winner === v.variant ? " (winner)" : v.state === "paused" ? " (paused)" : ""}
                            <br />
                          </span>
                        ))}
                        {r.creative_test.state === "decided" && r.creative_test.p_value !== null
                          ? `decided, p=${r.creative_test.p_value.toFixed(4)}`
                          : r.creative_test.state}
                      </span>
                    ) : (
                      <span className="muted small">—</span>
                    ),
                },
                { label: "Platform", render: (r) => r.platform },
                { label: "Campaign id", render: (r) => <span className="muted small">{r.campaign_id ?? "—"}</span> },
                { label: "State", render: (r) => <Badge value={r.state} /> },
                { label: "Budget/day", render: (r) => money(r.daily_budget), numeric: true },
                { label: "Spend", render: (r) => money(r.spend), numeric: true },
                { label: "Revenue", render: (r) => money(r.revenue), numeric: true },
                { label: "ROAS", render: (r) => <span className={r.roas !== null && r.roas < 1 ? "neg" : undefined}>{ratio(r.roas)}</span>, numeric: true },
                {
                  label: "",
                  render: (r) =>
                    r.state === "active" && r.campaign_id ? (
                      r.pause_requested ? <span className="muted small">pause requested</span> : <button onClick={() => pause(r)}>Pause</button>
                    ) : (
                      r.last_error ?? ""
                    ),
                },
              ]}
            />
            <Pager total={d.total} limit={d.limit} offset={d.offset} onChange={setOffset} />
          </>
        )}
      </Section>
      <Section title="Actions taken, and why" state={actions} isEmpty={(d) => d.items.length === 0} empty="No budget change or pause yet.">
        {(d) => (
          <>
            <Table
              rows={d.items}
              rowKey={(r) => `${r.source}:${r.at}:${r.campaign_id}:${r.action}`}
              columns={[
                { label: "When (UTC)", render: (r) => when(r.at) },
                { label: "By", render: (r) => (r.source === "ads" ? "optimiser" : "operator") },
                { label: "Product", render: (r) => <ProductLink pid={r.pid} title={r.title} /> },
                { label: "Campaign", render: (r) => <span className="muted small">{`${r.platform ?? ""} ${r.campaign_id ?? ""}`}</span> },
                { label: "Action", render: (r) => r.action },
                // proposed (a dry run), pending, applied or failed; an operator's: done, recorded or failed
                { label: "Status", render: (r) => <Badge value={typeof r.detail.status === "string" ? r.detail.status : null} /> },
                { label: "Why", render: (r) => r.reason ?? "" },
              ]}
            />
            <Pager total={d.total} limit={d.limit} offset={d.offset} onChange={setActionsOffset} />
          </>
        )}
      </Section>
    </>
  );
}
