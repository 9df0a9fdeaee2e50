"""One `ConfigurableResource` per external service; `base_url` is the switch between sandbox and live."""
