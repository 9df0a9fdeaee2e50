// The dashboard API: a login session (HttpOnly cookie) plus its CSRF token for actions.

export class ApiError extends Error {
  constructor(public status: number, message: string) {
    super(message);
  }
}

let csrfToken: string | null = null;

export function setCsrf(token: string | null): void {
  csrfToken = token;
}

async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET" && csrfToken) headers["X-CSRF-Token"] = csrfToken;
  const response = await fetch(path, {
    method,
    headers,
    credentials: "same-origin",
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok) {
    let detail = response.statusText;
    try {
      const payload = await response.json();
      detail = typeof payload.detail === "string" ? payload.detail : JSON.stringify(payload.detail);
    } catch {
      /* not JSON */
    }
    throw new ApiError(response.status, detail || `HTTP ${response.status}`);
  }
  return (await response.json()) as T;
}

export const get = <T,>(path: string) => request<T>("GET", path);
export const post = <T,>(path: string, body: unknown = {}) => request<T>("POST", path, body);

export interface Page<T> {
  items: T[];
  total: number;
  limit: number;
  offset: number;
  // The orders' pages: the count stops at 10,000 (total_exact false past it); next_after continues.
  total_exact?: boolean;
  total_label?: string;
  next_after?: string | null;
}
export interface SessionInfo {
  authenticated: boolean;
  csrf_token: string | null;
}
export interface Kpi {
  period: string;
  sales: string;
  profit: string;
  orders: number;
  ad_spend: string;
  ad_clicks: number;
  roi: number | null;
  roas: number | null;
  conversion_rate: number | null;
  aov: string | null;
  computed_at: string;
  start_day: string | null;
  end_day: string | null;
  attributed_orders: number;
  attributed_conversion_rate: number | null;
  organic_orders: number;
  store_sessions: number | null;
  organic_conversion_rate: number | null;
  daily_sums: Record<string, string>;
  daily_computed_at: string | null;
  disagrees: string[];
  warnings: string[];
}
export interface KpiReport {
  periods: Kpi[];
  refunds_note: string;
  store_timezone: string;
  store_today: string | null;
  definitions: Record<string, string>;
}
export interface DailyPoint {
  day: string;
  orders: number;
  sales: string;
  profit: string;
  ad_spend: string;
  payment_fees: string;
  product_cost: string;
  shipping_cost: string;
  aov: string | null;
  computed_at: string | null;
}
export interface TopProduct {
  rank: number;
  pid: string;
  title: string;
  orders: number;
  units: number;
  revenue: string;
  ad_spend: string;
  contribution: string;
  computed_at: string | null;
}
export interface AdPerformance {
  platform: string;
  campaign_id: string;
  pid: string | null;
  title: string | null;
  computed_at: string | null;
  state: string | null;
  spend: string;
  clicks: number;
  purchases: number;
  revenue: string;
  ctr: number | null;
  cpc: string | null;
  roas: number | null;
}
export interface Candidate {
  pid: string;
  name: string;
  status: string;
  reason: string | null;
  score: number | null;
  price: string | null;
  profit: string | null;
  margin: number | null;
}
export interface Listing {
  pid: string;
  title: string;
  status: string;
  price: string;
  unit_cost: string;
  shipping_cost: string;
  last_error: string | null;
  listed_at: string | null;
}
export interface Order {
  order_id: string;
  name: string;
  customer_name: string | null;
  placed_at: string;
  total_price: string;
  state: string;
  source: string;
  problem: string | null;
  supplier_status: string | null;
  supplier_error: string | null;
  track_number: string | null;
  tracking_url: string | null;
  needs_attention: boolean;
  actions: string[];
}
export interface Campaign {
  platform: string;
  pid: string;
  campaign_id: string | null;
  title: string | null;
  state: string;
  daily_budget: string;
  spend: string;
  revenue: string;
  clicks: number;
  purchases: number;
  roas: number | null;
  last_error: string | null;
  pause_requested: boolean;
  video_url: string | null;
  creative_test: CreativeTest | null;
}
export interface CreativeTest {
  state: string;
  winner: string | null;
  loser: string | null;
  p_value: number | null;
  variants: { variant: string; ad_id: string | null; state: string; clicks: number; purchases: number }[];
}
export interface AdAction {
  source: string;
  at: string | null;
  platform: string | null;
  campaign_id: string | null;
  action: string;
  reason: string | null;
  detail: Record<string, unknown>;
  pid: string | null;
  title: string | null;
}
export interface Ticket {
  ticket_id: string;
  status: string;
  subject: string;
  customer_email: string | null;
  last_received_at: string | null;
  replies: number;
  escalated: number;
}
export interface Reply {
  reply_key: string;
  ticket_id: string;
  state: string;
  subject: string | null;
  customer_email: string | null;
  intent: string | null;
  confidence: number | null;
  reason: string | null;
  reply_text: string | null;
  customer_message: string | null;
  received_at: string | null;
  decision: string | null;
  decision_status: string | null;
  decision_text: string | null;
  tokens: number;
  gate_reasons: string[];
  reason_text: string | null;
  draft: unknown;
  order_name: string | null;
  order: OrderFacts | null;
}
export interface OrderFacts {
  name: string;
  order_id: string;
  placed_at: string;
  total_price: string;
  currency: string | null;
  state: string;
  financial_status: string;
  problem: string | null;
  cancelled_at: string | null;
  supplier_status: string | null;
  track_number: string | null;
  carrier: string | null;
  tracking_url: string | null;
}
export interface ActionResult {
  action_id: number;
  status: string;
  message: string;
}
export interface RunStatus {
  run_id: string;
  status: string;
  finished: boolean;
}
export interface SystemHealth {
  state: "green" | "amber" | "red";
  causes: string[];
  checked_at: string;
}
