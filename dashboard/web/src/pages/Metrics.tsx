import { useState } from "react";
import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis, Bar, BarChart } from "recharts";
import type { AdPerformance, DailyPoint, KpiReport, Page, TopProduct } from "../api";
import type { PageProps } from "../App";
import { RunJob } from "../RunJob";
import { Badge, money, Pager, ProductLink, ratio, Section, Table, useApi, when } from "../ui";

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
  const kpis = useApi<KpiReport>("/api/metrics/kpis", onUnauthorized);
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
        <RunJob
          job="analytics_job"
          label="Recompute analytics"
          onFinished={() => {
            kpis.reload();
            daily.reload();
            top.reload();
            ads.reload();
          }}
        />
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
                {id === "today" && kpis.data?.store_today ? `${label} (${kpis.data.store_today}, ${kpis.data.store_timezone})` : label}
              </option>
            ))}
          </select>
        }
      >
        {(d) => {
          const k = d.periods.find((p) => p.period === period) ?? d.periods[0];
          const how = d.definitions;
          const card = (field: string) => ({ how: how[field], disagrees: k.disagrees.includes(field), daily: k.daily_sums[field] });
          return (
            <>
              <div className="kpis">
                <KpiCard label="Sales" value={money(k.sales)} testId="kpi-sales" {...card("sales")} dailyText={money(k.daily_sums.sales)} />
                <KpiCard label="Profit" value={money(k.profit)} testId="kpi-profit" negative={Number(k.profit) < 0} {...card("profit")} dailyText={money(k.daily_sums.profit)} />
                <KpiCard label="Orders" value={String(k.orders)} testId="kpi-orders" {...card("orders")} dailyText={k.daily_sums.orders} />
                <KpiCard label="Ad spend" value={money(k.ad_spend)} testId="kpi-ad-spend" {...card("ad_spend")} dailyText={money(k.daily_sums.ad_spend)} />
                <KpiCard label="ROI" value={ratio(k.roi, true)} testId="kpi-roi" how={how.roi} />
                <KpiCard label="Ad conversion" value={ratio(k.attributed_conversion_rate, true)} testId="kpi-conversion" how={how.attributed_conversion} detail={`${k.attributed_orders} attributed of ${k.ad_clicks} clicks`} />
                <KpiCard
                  label="Organic orders"
                  value={String(k.organic_orders)}
                  testId="kpi-organic"
                  how={how.organic_orders}
                  detail={k.organic_conversion_rate === null ? "no rate: sessions unknown" : `${ratio(k.organic_conversion_rate, true)} of ${k.store_sessions} sessions`}
                />
                <KpiCard label="AOV" value={money(k.aov)} testId="kpi-aov" how={how.aov} />
                <KpiCard label="ROAS" value={ratio(k.roas)} testId="kpi-roas" how={how.roas} />
              </div>
              {k.warnings.map((w) => (
                <p key={w} className="warning small" data-testid="kpi-warning">
                  ⚠ {w}
                </p>
              ))}
              <p className="small muted" data-testid="kpi-computed">
                Cards computed {when(k.computed_at)} UTC; daily tables computed {when(k.daily_computed_at)} UTC. {k.period === "today" && d.store_today ? `Today is ${d.store_today} in the store's time zone (${d.store_timezone}). ` : ""}
                Profit = sales − product cost − shipping − payment fees (2.9 % + $0.30) − ad spend − refunds; {d.refunds_note}.
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
          const computed = d.reduce<string | null>((a, p) => (p.computed_at && (!a || p.computed_at > a) ? p.computed_at : a), null);
          return (
            <div className="charts">
              <p className="small muted" data-testid="daily-computed">Daily tables computed {when(computed)} UTC (newest day).</p>
              <ResponsiveContainer width="100%" height={260}>
                <LineChart data={points} margin={{ top: 8, right: 16, bottom: 8, left: 8 }}>
                  <CartesianGrid strokeDasharray="3 3" />
                  <XAxis dataKey="day" />
                  <YAxis />
                  <Tooltip formatter={(v) => money(Number(v))} />
                  <Legend />
                  <Line type="linear" dataKey="Sales" stroke="#2563eb" isAnimationActive={false} />
                  <Line type="linear" dataKey="Profit" stroke="#16a34a" isAnimationActive={false} />
                  <Line type="linear" dataKey="Ad spend" stroke="#dc2626" isAnimationActive={false} />
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
            <p className="small muted">Computed {when(d.items[0]?.computed_at)} UTC.</p>
          </>
        )}
      </Section>
      <Section title="Ad performance" state={ads} isEmpty={(d) => d.items.length === 0} empty="No ad metrics yet.">
        {(d) => (
          <>
          <Table
            rows={d.items}
            rowKey={(r) => `${r.platform}:${r.campaign_id}`}
            columns={[
              { label: "Product", render: (r) => <ProductLink pid={r.pid} title={r.title} /> },
              { label: "Platform", render: (r) => r.platform },
              { label: "Campaign id", render: (r) => <span className="muted small">{r.campaign_id}</span> },
              { label: "State", render: (r) => <Badge value={r.state} /> },
              { label: "Spend", render: (r) => money(r.spend), numeric: true },
              { label: "Clicks", render: (r) => r.clicks, numeric: true },
              { label: "CTR", render: (r) => ratio(r.ctr, true), numeric: true },
              { label: "CPC", render: (r) => money(r.cpc), numeric: true },
              { label: "Purchases", render: (r) => r.purchases, numeric: true },
              { label: "ROAS", render: (r) => <span className={r.roas !== null && r.roas < 1 ? "neg" : undefined}>{ratio(r.roas)}</span>, numeric: true },
            ]}
          />
          <p className="small muted">Computed {when(d.items[0]?.computed_at)} UTC.</p>
          </>
        )}
      </Section>
    </>
  );
}

function KpiCard(props: { label: string; value: string; testId: string; how?: string; negative?: boolean; disagrees?: boolean; dailyText?: string; detail?: string; daily?: string }) {
  const { label, value, testId, how, negative, disagrees, dailyText, detail } = props;
  return (
    <div className={`kpi${disagrees ? " kpi-stale" : ""}`} data-testid={`${testId}-card`}>
      <div className="kpi-label">{label}</div>
      <div className={`kpi-value${negative ? " neg" : ""}`} data-testid={testId}>
        {value}
      </div>
      {detail && <div className="small muted">{detail}</div>}
      {disagrees && (
        <div className="small warning" data-testid={`${testId}-disagrees`} role="note">
          daily tables say {dailyText}
        </div>
      )}
      {how && <div className="kpi-how">How this is computed: {how}</div>}
    </div>
  );
}
