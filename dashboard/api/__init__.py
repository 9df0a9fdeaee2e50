"""The dashboard's HTTP API (FastAPI)."""

from dashboard.api.app import create_app

__all__ = ["create_app"]
