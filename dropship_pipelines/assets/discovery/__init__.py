"""The discovery workflow: supplier catalog -> priced candidates -> AI copy -> listings on the store.

- `assets.py`: the assets (thin: they call `dropship_pipelines.services.discovery`, the ledger protocol);
- `checks.py`: the asset checks (the blocking ones stand between us and a wrong price);
- `defs.py`: the job and its hourly schedule, and `discovery_defs`.

What is worth selling is `dropship_pipelines.rules.scoring`; how a price is made is
`dropship_pipelines.rules.pricing`, configured by the `pricing` resource. The supplier is any
`dropship_pipelines.resources.supplier.Supplier` (CJ today)."""
