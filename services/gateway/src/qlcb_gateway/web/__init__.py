"""The web pages officers log in to, served by the gateway under /web (ADR 0033): server-rendered
Jinja2 templates calling the backends with the logged-in user's access token, as the REST routes do."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from starlette.staticfiles import StaticFiles

from qlcb_gateway.web import (
    account_list,
    account_requests,
    accounts,
    audit,
    backups,
    decision_form,
    decisions,
    delegations,
    downloads,
    entry_form,
    entry_history,
    home,
    late_entries,
    notices,
    pages,
    purpose_accounts,
    quotas,
    regime_form,
    regime_page,
    reports,
    statistics,
    transfers,
    unit_accounts,
)
from qlcb_gateway.web.session import PATH
from qlcb_gateway.web.state import SecurityHeaders

STATIC = Path(__file__).parent / "static"


def install(app: FastAPI) -> None:
    app.include_router(pages.router)
    app.include_router(home.router)
    app.include_router(late_entries.router)
    app.include_router(entry_form.router)
    app.include_router(downloads.router)
    app.include_router(transfers.router)
    app.include_router(decision_form.router)  # before decisions': /decisions/new is no decision's id
    app.include_router(decisions.router)
    app.include_router(entry_history.router)
    app.include_router(audit.router)
    app.include_router(regime_form.router)  # before regime_page's: /reports/new is no regime's id
    app.include_router(regime_page.router)
    app.include_router(reports.router)
    app.include_router(backups.router)
    app.include_router(account_requests.router)
    app.include_router(delegations.router)
    app.include_router(notices.router)
    app.include_router(statistics.router)
    app.include_router(unit_accounts.router)  # before purpose_accounts': /purpose-accounts/units/…
    app.include_router(purpose_accounts.router)
    app.include_router(account_list.router)
    app.include_router(accounts.router)
    app.include_router(quotas.router)
    app.add_api_route("/", pages.root, include_in_schema=False)
    app.mount(PATH + "/static", StaticFiles(directory=STATIC), name="web-static")
    app.add_middleware(pages.SessionStanding)  # inside SecurityHeaders: a login it sends gets the headers
    app.add_middleware(SecurityHeaders)
    pages.install_error_pages(app)
