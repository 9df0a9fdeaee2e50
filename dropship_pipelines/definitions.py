"""The one `Definitions` of the code location: every workflow's assets, checks, jobs and triggers.

Loading it builds ~250,000 long-lived objects (Dagster's and ours), and Python's cyclic garbage collector
would walk all of them in every full collection for the rest of the process: about 0.2 CPU s of a
`dagster job execute` that has nothing to do (issue 16's run floor). So the collector is paused while the
definitions are built (nearly all of it is kept: a collection then finds some hundred objects of garbage),
and what exists once they are built is frozen (`gc.freeze()`: kept out of later collections, which then
only walk what the run itself allocates). The collector is on again afterwards, if it was before."""

import gc

_collecting = gc.isenabled()
gc.disable()
try:
    import dagster as dg

    from dropship_pipelines.resources.catalog import build_resources
    from dropship_pipelines.workflows import WORKFLOWS

    defs = dg.Definitions.merge(
        *WORKFLOWS,
        dg.Definitions(resources=build_resources()),
    )
finally:
    gc.freeze()
    if _collecting:
        gc.enable()
