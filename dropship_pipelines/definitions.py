"""The one `Definitions` of the code location: every workflow's assets, checks, jobs and triggers."""

import dagster as dg

from dropship_pipelines.resources.catalog import build_resources
from dropship_pipelines.workflows import WORKFLOWS

defs = dg.Definitions.merge(
    *WORKFLOWS,
    dg.Definitions(resources=build_resources()),
)
