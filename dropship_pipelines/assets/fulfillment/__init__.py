"""The fulfillment workflow: store orders -> orders at the supplier -> tracking back to the customer, once
each.

- `assets.py`: the assets (thin: they call `dropship_pipelines.services.fulfillment`, the ledger protocol);
- `checks.py`: the asset checks (money goes to the supplier once, customers get real tracking);
- `defs.py`: the job, its five-minute schedule and the new-order sensor, and `fulfillment_defs`.

Which orders can go to the supplier, under which number and by which route is
`dropship_pipelines.rules.fulfillment`. The supplier is any
`dropship_pipelines.resources.supplier.Supplier`."""
