"""Going-live readiness: the webhook subscriptions checked at start and the preflight."""
