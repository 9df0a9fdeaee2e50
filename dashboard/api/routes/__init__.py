"""One APIRouter per page of the web app (dashboard/web/src/pages/), plus the session and run launching.

A page's module holds its routes and the queries they make on the ledger's tables; `build_api`
(dashboard/api/app.py) mounts them under /api with the login guard.
"""
