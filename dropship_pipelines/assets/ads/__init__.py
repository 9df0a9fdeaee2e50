"""The ads workflow: a video ad and a campaign on Meta and TikTok for every new listing, daily metrics, and
budget optimisation on measured return.

- `assets.py`: the assets (thin: they call `dropship_pipelines.services.ads`, the ledger protocol);
- `checks.py`: the asset checks (the blocking ones guard the ad budget);
- `defs.py`: jobs, schedules and sensors, and `ads_defs`.

When to pause or scale a campaign is `dropship_pipelines.rules.ad_rules`; the policy's settings are the
`ad_policy` resource (`dropship_pipelines.resources.ad_policy`)."""
