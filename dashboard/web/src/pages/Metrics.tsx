import { useState } from "react";
import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis, Bar, BarChart } from "recharts";
import type { AdPerformance, DailyPoint, Kpi, Page, TopProduct } from "../api";
import type { PageProps } from "../App";
import { RunJob } from "../RunJob";
import { Badge, money, Pager, ratio, Section, Table, useApi } from "../ui";

const PERIOD_LABELS: Record<string, string> = {
  all_time: "All time",
  last_30_days: "Last 30 days",
  last_7_days: "Last 7 days",
  today: "Today",
};

export function MetricsPage({ onUnauthorized }: PageProps) {
  const [period, setPeriod] = useState("all_time");
  const [start, setStart] = useState("");
  const [end, setEnd] = useState("");
  const [topOffset, setTopOffset] = useState(0);
  const kpis = useApi<{ periods: Kpi[]; refunds_note: string }>("/api/metrics/kpis", onUnauthorized);
  const range = new URLSearchParams();
  if (start) range.set("start", start);
  if (end) range.set("end", end);
  const daily = useApi<DailyPoint[]>(`/api/metrics/daily?${range}`, onUnauthorized);
  const top = useApi<Page<TopProduct>>(`/api/metrics/top-products?limit=10&offset=${topOffset}`, onUnauthorized);
  const ads = useApi<Page<AdPerformance>>("/api/metrics/ad-performance?limit=20", onUnauthorized);

  return (
    <>
      <div className="page-head">
        <h1>Metrics</h1>
        <RunJob job="analytics_job" label="Recompute analytics" />
      </div>
      <Section
        title="Key numbers"
        state={kpis}
        isEmpty={(d) => d.periods.length === 0}
        empty="No analytics yet: they are computed after the first orders and ad metrics arrive."
        actions={
          <select aria-label="Period" value={period} onChange={(e) => setPeriod(e.target.value)}>
            {Object.entries(PERIOD_LABELS).map(([id, label]) => (
              <option key={id} value={id}>
                {label}
              </option>
            ))}
          </select>
        }
      >
        {(d) => {
          const k = d.periods.find((p) => p.period === period) ?? d.periods[0];
          return (
            <>
              <div className="kpis">
                <KpiCard label="Sales" value={money(k.sales)} testId="kpi-sales" />
                <KpiCard label="Profit" value={money(k.profit)} testId="kpi-profit" negative={Number(k.profit) < 0} />
                <KpiCard label="Orders" value={String(k.orders)} testId="kpi-orders" />
                <KpiCard label="Ad spend" value={money(k.ad_spend)} testId="kpi-ad-spend" />
                <KpiCard label="ROI" value={ratio(k.roi, true)} hint="profit / (product cost + shipping + fees + ad spend)" testId="kpi-roi" />
                <KpiCard label="Conversion" value={ratio(k.conversion_rate, true)} hint="orders / ad clicks" testId="kpi-conversion" />
                <KpiCard label="AOV" value={money(k.aov)} hint="average order value" testId="kpi-aov" />
                <KpiCard label="ROAS" value={ratio(k.roas)} hint="sales / ad spend" testId="kpi-roas" />
              </div>
              <p className="small muted">
                Computed {k.computed_at.replace("T", " ").slice(0, 16)} UTC. Profit = sales − product cost − shipping − payment fees (2.9 % + $0.30) − ad spend − refunds; {d.refunds_note}.
              </p>
            </>
          );
        }}
      </Section>
      <Section
        title="Sales and profit by day"
        state={daily}
        isEmpty={(d) => d.length === 0}
        empty="No day with orders or ad spend in this range."
        actions={
          <span className="filters">
            <label>
              From <input type="date" value={start} onChange={(e) => setStart(e.target.value)} aria-label="From" />
            </label>
            <label>
              To <input type="date" value={end} onChange={(e) => setEnd(e.target.value)} aria-label="To" />
            </label>
          </span>
        }
      >
        {(d) => {
          const points = d.map((p) => ({ day: p.day, Sales: Number(p.sales), Profit: Number(p.profit), "Ad spend": Number(p.ad_spend), Orders: p.orders }));
          return (
            <div className="charts">
              <ResponsiveContainer width="100%" height={260}>
                <LineChart data={points} margin={{ top: 8, right: 16, bottom: 8, left: 8 }}>
                  <CartesianGrid strokeDasharray="3 3" />
                  <XAxis dataKey="day" />
                  <YAxis />
                  <Tooltip formatter={(v) => money(Number(v))} />
                  <Legend />
                  <Line type="monotone" dataKey="Sales" stroke="#2563eb" isAnimationActive={false} />
                  <Line type="monotone" dataKey="Profit" stroke="#16a34a" isAnimationActive={false} />
                  <Line type="monotone" dataKey="Ad spend" stroke="#dc2626" isAnimationActive={false} />
                </LineChart>
              </ResponsiveContainer>
              <ResponsiveContainer width="100%" height={160}>
                <BarChart data={points} margin={{ top: 8, right: 16, bottom: 8, left: 8 }}>
                  <XAxis dataKey="day" />
                  <YAxis allowDecimals={false} />
                  <Tooltip />
                  <Bar dataKey="Orders" fill="#7c3aed" isAnimationActive={false} />
                </BarChart>
              </ResponsiveContainer>
            </div>
          );
        }}
      </Section>
      <Section title="Top products" state={top} isEmpty={(d) => d.items.length === 0} empty="No product sold yet.">
        {(d) => (
          <>
            <Table
              rows={d.items}
              rowKey={(r) => r.pid}
              columns={[
                { label: "#", render: (r) => r.rank },
                { label: "Product", render: (r) => r.title || r.pid },
                { label: "Orders", render: (r) => r.orders, numeric: true },
                { label: "Units", render: (r) => r.units, numeric: true },
                { label: "Revenue", render: (r) => money(r.revenue), numeric: true },
                { label: "Ad spend", render: (r) => money(r.ad_spend), numeric: true },
                { label: "Contribution", render: (r) => <span className={Number(r.contribution) < 0 ? "neg" : undefined}>{money(r.contribution)}</span>, numeric: true },
              ]}
            />
            <Pager total={d.total} limit={d.limit} offset={d.offset} onChange={setTopOffset} />
          </>
        )}
      </Section>
      <Section title="Ad performance" state={ads} isEmpty={(d) => d.items.length === 0} empty="No ad metrics yet.">
        {(d) => (
          <Table
            rows={d.items}
            rowKey={(r) => `${r.platform}:${r.campaign_id}`}
            columns={[
              { label: "Platform", render: (r) => r.platform },
              { label: "Campaign", render: (r) => r.campaign_id },
              { label: "State", render: (r) => <Badge value={r.state} /> },
              { label: "Spend", render: (r) => money(r.spend), numeric: true },
              { label: "Clicks", render: (r) => r.clicks, numeric: true },
              { label: "CTR", render: (r) => ratio(r.ctr, true), numeric: true },
              { label: "CPC", render: (r) => money(r.cpc), numeric: true },
              { label: "Purchases", render: (r) => r.purchases, numeric: true },
              { label: "ROAS", render: (r) => <span className={r.roas !== null && r.roas < 1 ? "neg" : undefined}>{ratio(r.roas)}</span>, numeric: true },
            ]}
          />
        )}
      </Section>
    </>
  );
}

function KpiCard({ label, value, hint, testId, negative }: { label: string; value: string; hint?: string; testId: string; negative?: boolean }) {
  return (
    <div className="kpi" title={hint}>
      <div className="kpi-label">{label}</div>
      <div className={`kpi-value${negative ? " neg" : ""}`} data-testid={testId}>
        {value}
      </div>
    </div>
  );
}
