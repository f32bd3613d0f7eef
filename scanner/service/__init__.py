"""`govscan serve`: the web service. One process, one ASGI app (FastAPI on uvicorn, docs/service.md), on the
same store and scanner as the command line.

- app.py        the app, its middleware (security headers, CSRF cookie, trusted proxies) and `serve`
- web.py        what the pages share: language, client address, CSRF token, the page frame
- jobs.py       the background scanner: scan jobs are runs in the store (source "serve:..."), their sites
                work items (storage/work.py), so a restart resumes them; a bounded number run at once
- checkpage.py  the on-demand check page: form, progress, report, permanent link, JSON
- dashboard.py  what `govscan publish` writes, served live from the store at the same URLs
- batch.py      the internet.nl-compatible batch API (v2) and its OpenAPI document
- tokens.py     the batch API's tokens: created, listed and revoked from the command line, stored hashed

Every router reads what it needs from `request.app.state.service` (app.Service: settings, store, catalogue,
jobs).
"""
