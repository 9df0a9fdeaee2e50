"""`python -m dashboard`: serve the dashboard on 127.0.0.1:$DASHBOARD_PORT (8720).

Environment: DASHBOARD_TOKEN (required, 12+ characters), STORE_DATABASE_URL, DASHBOARD_HOST (127.0.0.1;
anything else exposes the store's numbers beyond this machine), DAGSTER_HOST / DAGSTER_PORT (the Dagster
webserver runs are launched through), DASHBOARD_JOBS (comma-separated job names the dashboard may launch),
DROPSHIP_MEDIA_DIR (the rendered ad videos the Ads page previews), STORE_TIMEZONE (the store's day for
"Today"; else the shop's time zone recorded in the ledger, else UTC), SHOPIFY_WEBHOOK_SECRET (the app
secret the Shopify webhooks received at /webhooks/shopify are signed with).
"""

import os
import sys
from pathlib import Path

import uvicorn

from dashboard.api import create_app
from dashboard.api.actions import campaign_pauser, order_canceller, reply_sender
from dashboard.api.app import freeze_startup_heap
from dashboard.api.runs import DEFAULT_JOBS
from dropship_pipelines.settings import store_database_url
from dropship_pipelines.webhooks.app import webhook_router
from dropship_pipelines.webhooks.cj import cj_webhook_router


def main() -> int:
    token = os.environ.get("DASHBOARD_TOKEN", "")
    if len(token) < 12:
        print("set DASHBOARD_TOKEN (12+ characters) to the token the operator logs in with", file=sys.stderr)
        return 2
    store_url = store_database_url()
    jobs = (
        tuple(j.strip() for j in os.environ.get("DASHBOARD_JOBS", "").split(",") if j.strip()) or DEFAULT_JOBS
    )
    app = create_app(
        store_url,
        token,
        dagster_host=os.environ.get("DAGSTER_HOST", "127.0.0.1"),
        dagster_port=int(os.environ.get("DAGSTER_PORT", "3000")),
        jobs=jobs,
        send_reply=reply_sender(store_url),
        pause_campaign=campaign_pauser(),
        cancel_order=order_canceller(store_url),
        media_dir=Path(os.environ.get("DROPSHIP_MEDIA_DIR", ".data/media")),
        store_timezone=os.environ.get("STORE_TIMEZONE"),
    )
    app.include_router(webhook_router(store_url=store_url))  # Shopify posts orders/create here
    app.include_router(cj_webhook_router(store_url=store_url))  # CJ posts PRODUCT / STOCK messages here
    freeze_startup_heap()
    uvicorn.run(
        app,
        host=os.environ.get("DASHBOARD_HOST", "127.0.0.1"),
        port=int(os.environ.get("DASHBOARD_PORT", "8720")),
        log_level=os.environ.get("DASHBOARD_LOG_LEVEL", "info"),
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
