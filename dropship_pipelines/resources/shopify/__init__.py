"""Shopify Admin GraphQL: the client (`client.py`) and the typed payloads it parses answers into
(`models.py`)."""
