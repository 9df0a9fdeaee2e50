"""Each workflow contributes one `dg.Definitions` (assets, checks, job, schedule, sensors)."""

import dagster as dg

from dropship_pipelines.assets.ads.defs import ads_defs
from dropship_pipelines.assets.analytics.defs import analytics_defs
from dropship_pipelines.assets.discovery.defs import discovery_defs
from dropship_pipelines.assets.fulfillment.defs import fulfillment_defs
from dropship_pipelines.assets.readiness.defs import readiness_defs
from dropship_pipelines.assets.support.defs import support_defs
from dropship_pipelines.sensors.alerts import alerts_defs

WORKFLOWS: list[dg.Definitions] = [
    discovery_defs,
    ads_defs,
    fulfillment_defs,
    support_defs,
    analytics_defs,
    readiness_defs,  # webhooks registered at start, the preflight
    alerts_defs,  # operator alerts on failed runs and checks, for every workflow above
]
