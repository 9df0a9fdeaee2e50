"""CJ Dropshipping, the first `Supplier`: the API client, its payload models and their mapping onto the
supplier-neutral models. Every CJ field name and error code stays inside this package."""
