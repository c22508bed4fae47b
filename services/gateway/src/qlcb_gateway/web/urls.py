"""The pages' addresses by their route's name, as `request.url_for` gives them, each route's shape
found once and kept.

Starlette finds an address by asking every route of the application in turn, and FastAPI's
included routers rebuild their routes' contexts on each asking: with the REST API's routes beside
the pages', a staff list of 100 people spent most of its time (some 50 ms) in its links. The shape
of a route's path is found the first time, with a mark in place of each parameter, and its
parameters are put in the marks after; the path is made absolute on the request's own base, as
Starlette does."""

from __future__ import annotations

from typing import Any

from jinja2 import pass_context
from starlette.datastructures import URL, URLPath
from starlette.requests import Request

MARK = "\x00"
"""Around a parameter's name in a kept shape: no address holds it (it cannot be sent in one)."""

KEPT = "qlcb_page_shapes"
"""The router's attribute keeping its routes' shapes (routers are not hashable: they compare by value)."""


def page_url(request: Request, name: str, /, **path_params: Any) -> URL:
    """`request.url_for(name, **path_params)`, without asking every route."""
    provider = request.scope.get("router") or request.scope["app"]
    kept: dict[tuple[str, frozenset[str]], str] | None = getattr(provider, KEPT, None)
    if kept is None:
        kept = {}
        setattr(provider, KEPT, kept)
    key = (name, frozenset(path_params))
    shape = kept.get(key)
    if shape is None:
        shape = str(provider.url_path_for(name, **{p: f"{MARK}{p}{MARK}" for p in path_params}))
        kept[key] = shape
    path = shape
    for param, value in path_params.items():
        text = str(value)
        if not text or MARK in text:
            raise ValueError(f"{param} of {name}: {text!r} is no path parameter")
        path = path.replace(f"{MARK}{param}{MARK}", text)
    return URLPath(path=path, protocol="http").make_absolute_url(base_url=request.base_url)


@pass_context
def template_url(context: dict[str, Any], name: str, /, **path_params: Any) -> URL:
    """`url_for` in the templates."""
    request: Request = context["request"]
    return page_url(request, name, **path_params)
