"""Response and request bodies of the dashboard API. Money is a decimal string ("19.99"), exact."""

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, Field

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int = Field(description="rows matching the filters, all pages")
    limit: int
    offset: int


class OrderPage(Page[T], Generic[T]):
    """A page of the orders: keyset-paged (`after`) and counted up to a bound, at any ledger size."""

    total_exact: bool = Field(
        True, description="false: more rows match than `total` (the count stops at its bound, 10,000)"
    )
    total_label: str = Field("", description='the count as the page shows it: "25", or "10,000+"')
    next_after: str | None = Field(
        None, description="pass as `after` for the next page (keyset); null on the last page"
    )


class SessionInfo(BaseModel):
    authenticated: bool
    csrf_token: str | None = Field(None, description="send as X-CSRF-Token on actions of a cookie session")


class LoginRequest(BaseModel):
    token: str = Field(min_length=1, max_length=500)


class DailySums(BaseModel):
    sales: Decimal
    orders: int
    ad_spend: Decimal
    profit: Decimal


class Kpi(BaseModel):
    period: str
    start_day: date | None
    end_day: date | None
    sales: Decimal
    profit: Decimal
    orders: int
    ad_spend: Decimal
    ad_clicks: int
    total_cost: Decimal
    roi: float | None = Field(description="profit / (product cost + shipping + payment fees + ad spend)")
    roas: float | None = Field(description="sales / ad spend")
    conversion_rate: float | None = Field(
        description="orders / ad clicks (all orders, organic included): kept for compatibility; the page "
        "shows attributed_conversion_rate"
    )
    aov: Decimal | None
    computed_at: datetime
    attributed_orders: int = Field(0, description="purchases the ad platforms attribute to their ads")
    attributed_conversion_rate: float | None = Field(None, description="attributed_orders / ad clicks")
    organic_orders: int = Field(0, description="orders of source organic, cancelled excluded")
    store_sessions: int | None = Field(None, description="the store's sessions, when recorded (not yet)")
    organic_conversion_rate: float | None = Field(None, description="organic orders / sessions, when known")
    daily_sums: DailySums | None = Field(None, description="the daily profit table over the period's days")
    daily_computed_at: datetime | None = Field(None, description="when the newest of those days was computed")
    disagrees: list[str] = Field(default_factory=list, description="fields that differ from daily_sums")
    warnings: list[str] = Field(default_factory=list)


class KpiReport(BaseModel):
    periods: list[Kpi]
    refunds_note: str
    store_timezone: str = "UTC"
    store_today: date | None = Field(None, description="the store's date now, in store_timezone")
    definitions: dict[str, str] = Field(default_factory=dict, description="how each card is computed")


class DailyPoint(BaseModel):
    day: date
    orders: int
    items: int
    sales: Decimal
    aov: Decimal | None
    product_cost: Decimal
    shipping_cost: Decimal
    payment_fees: Decimal
    ad_spend: Decimal
    refunds: Decimal
    profit: Decimal
    estimated_cost_orders: int
    computed_at: datetime | None = None


class TopProduct(BaseModel):
    rank: int
    pid: str
    title: str
    orders: int
    units: int
    revenue: Decimal
    product_cost: Decimal
    shipping_cost: Decimal
    ad_spend: Decimal
    contribution: Decimal
    # true profit: less each order's gateway fees and money given back, shared by line revenue
    payment_fees: Decimal = Decimal(0)
    money_back: Decimal = Decimal(0)
    profit: Decimal = Decimal(0)
    computed_at: datetime | None = None


class AdPerformance(BaseModel):
    platform: str
    campaign_id: str
    pid: str | None
    state: str | None
    days: int
    spend: Decimal
    impressions: int
    clicks: int
    purchases: int
    revenue: Decimal
    ctr: float | None
    cpc: Decimal | None
    roas: float | None
    title: str | None = Field(None, description="the product's listing title")
    computed_at: datetime | None = None


class Candidate(BaseModel):
    pid: str
    name: str
    status: str
    reason: str | None
    score: float | None
    price: Decimal | None
    unit_cost: Decimal | None
    shipping_cost: Decimal | None
    profit: Decimal | None
    margin: float | None
    popularity: int
    shipping_days_max: int | None
    evaluated_at: datetime | None


class Listing(BaseModel):
    pid: str
    title: str
    status: str
    price: Decimal
    unit_cost: Decimal
    shipping_cost: Decimal
    store_product_id: str | None
    image_url: str | None
    last_error: str | None
    listed_at: datetime | None


class Order(BaseModel):
    order_id: str
    name: str
    customer_name: str | None
    placed_at: datetime
    total_price: Decimal
    state: str
    source: str
    financial_status: str
    problem: str | None
    supplier_state: str | None
    supplier_status: str | None
    supplier_error: str | None
    track_number: str | None
    carrier: str | None
    tracking_url: str | None
    fulfillment_state: str | None
    needs_attention: bool
    actions: list[str] = Field(default_factory=list, description="retry | cancel: what a held order allows")


class CreativeVariant(BaseModel):
    variant: str = Field(description="a (problem-first control) or b (price-first challenger)")
    ad_id: str | None
    state: str
    clicks: int
    purchases: int


class CreativeTest(BaseModel):
    state: str = Field(description="running, pausing (the loser's pause claimed) or decided")
    winner: str | None
    loser: str | None
    p_value: float | None
    variants: list[CreativeVariant]


class Campaign(BaseModel):
    platform: str
    pid: str
    campaign_id: str | None
    title: str | None
    state: str
    daily_budget: Decimal
    last_error: str | None
    launched_at: datetime | None
    spend: Decimal
    revenue: Decimal
    clicks: int
    purchases: int
    roas: float | None
    pause_requested: bool
    video_url: str | None = Field(None, description="the product's rendered ad video, when there is one")
    creative_test: CreativeTest | None = Field(None, description="its two video variants' test, if any")


class AdAction(BaseModel):
    source: str = Field(description="ads (the optimiser) or dashboard (an operator)")
    at: datetime | None
    platform: str | None
    campaign_id: str | None
    action: str
    reason: str | None
    detail: dict[str, Any]
    pid: str | None = Field(None, description="the product the campaign advertises")
    title: str | None = Field(None, description="the product's listing title")


class Ticket(BaseModel):
    ticket_id: str
    status: str = Field(description="open | closed as the ledger knows it (a ticket just answered is closed)")
    helpdesk_status: str | None = Field(None, description="the status as last read from the helpdesk")
    subject: str
    customer_email: str | None
    customer_name: str | None
    last_received_at: datetime | None
    replies: int
    escalated: int


class OrderFacts(BaseModel):
    name: str
    order_id: str
    placed_at: datetime
    total_price: Decimal
    currency: str | None
    state: str
    financial_status: str
    problem: str | None
    cancelled_at: datetime | None
    supplier_status: str | None
    track_number: str | None
    carrier: str | None
    tracking_url: str | None


class Reply(BaseModel):
    reply_key: str
    ticket_id: str
    state: str
    subject: str | None
    customer_email: str | None
    intent: str | None
    confidence: float | None
    reason: str | None
    reply_text: str | None
    customer_message: str | None
    received_at: datetime | None
    answered_at: datetime | None
    decision: str | None = Field(None, description="the operator's decision on an escalation, if any")
    decision_status: str | None = None
    decision_text: str | None = None
    tokens: int = Field(0, description="LLM tokens (prompt + completion) spent on this message")
    gate_reasons: list[str] = Field(
        default_factory=list, description="why the last check before sending refused the draft, if it did"
    )
    reason_text: str | None = Field(None, description="why it was escalated, in words (api/reasons.py)")
    draft: Any | None = Field(None, description="the model's structured draft, when the ledger kept it")
    order_name: str | None = None
    order: OrderFacts | None = Field(None, description="the facts of the order the message is about")


class SupportStatus(BaseModel):
    available: bool
    note: str


class ReplyDecision(BaseModel):
    text: str | None = Field(None, max_length=10_000, description="the edited reply; the AI draft if omitted")


class PauseRequest(BaseModel):
    reason: str = Field("paused by the operator", max_length=500)


class ActionResult(BaseModel):
    action_id: int
    status: str = Field(description="done | recorded | failed")
    message: str


class RunLaunched(BaseModel):
    job_name: str
    run_id: str


class JobList(BaseModel):
    jobs: list[str]


class RunStatus(BaseModel):
    run_id: str
    status: str = Field(description="Dagster's run status: QUEUED, STARTED, SUCCESS, FAILURE, CANCELED, ...")
    finished: bool


class SystemHealth(BaseModel):
    state: str = Field(description="green | amber | red")
    causes: list[str]
    checked_at: datetime
