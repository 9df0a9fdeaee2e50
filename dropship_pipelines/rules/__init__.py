"""Business rules: plain, typed, pure functions. No Dagster, no I/O."""
