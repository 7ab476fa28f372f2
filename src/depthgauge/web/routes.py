"""Dashboard routes on the serving app: sign-in, the overview and drill-down pages, and the few actions.

Reading needs a viewer key or above (a predictor key only calls the API); reviewing needs the reviewer or admin
role; approving and promoting need deployer or admin. Sessions are kept server-side (signing out ends them), forms
carry the session's CSRF token and must come from this server's own origin, and the cookie is HttpOnly and
SameSite=Strict.
"""

from __future__ import annotations

import hmac
import math
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

from fastapi import FastAPI, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from depthgauge.errors import DepthgaugeError
from depthgauge.govern.checklist import build_checklist
from depthgauge.govern.keys import allowed
from depthgauge.money import usd
from depthgauge.web import sessions, views

DASHBOARD_RATE = 20.0  # pages and actions a second per signed-in key (a burst of 20): a person never needs more

TEMPLATES = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"),
                        autoescape=select_autoescape(["html"]))


def _number(value, digits: int = 3) -> str:
    if value is None:
        return "—"
    if isinstance(value, float) and abs(value) < 1e-3 and value != 0:
        return f"{value:.2e}"
    return f"{value:,.{digits}g}" if abs(value) < 10 ** digits else f"{value:,.0f}"


TEMPLATES.filters["num"] = _number
TEMPLATES.filters["usd"] = usd
TEMPLATES.filters["pct"] = lambda v: "—" if v is None else f"{v * 100:.1f}%"


async def _form(request: Request) -> dict[str, str]:
    """Return the fields of a URL-encoded form (the only kind the dashboard's pages send). A form sent from another
    site is refused (403): a browser names the page's origin, and it must be this server's (no cross-site sign-in
    with someone else's key, no cross-site action)."""
    origin = request.headers.get("origin")
    if origin is not None and urlsplit(origin).netloc != request.headers.get("host"):
        raise HTTPException(403, "This form was sent from another site; sign in and act from the dashboard itself.")
    body = (await request.body()).decode("utf-8", errors="replace")
    return {key: values[-1] for key, values in parse_qs(body, keep_blank_values=True).items()}


def add_dashboard(app: FastAPI, workspace, auth: bool) -> None:
    anonymous = sessions.Session("anonymous", "anonymous", "admin", "no-auth", float("inf"))
    gate = app.state.serving.gate  # the API's key checks and cache: one per server

    def current(request: Request) -> sessions.Session | None:
        if not auth:
            return anonymous
        session = sessions.read(workspace, request.cookies.get(sessions.COOKIE))
        if session is None or not allowed(session.role, "view"):
            return None
        if not gate.is_live(session.key_id):  # a revoked key signs its sessions out
            return None
        wait = gate.limits.take_request(f"dashboard:{session.key_id}", DASHBOARD_RATE)
        if wait is not None:
            raise HTTPException(429, "Too many dashboard requests from this key; retry in a moment.",
                                headers={"Retry-After": str(math.ceil(wait))})
        return session

    def actor_of_session(who: sessions.Session) -> str:
        """How the audit log names a dashboard user: by the key they signed in with ("anonymous" with auth off)."""
        return f"key:{who.name}" if auth else "anonymous"

    def page(template_name: str, request: Request, who: sessions.Session, status: int = 200, **context) -> HTMLResponse:
        body = TEMPLATES.get_template(template_name).render(who=who, path=request.url.path, can=lambda p: allowed(who.role, p),
                                                   auth=auth, **context)
        return HTMLResponse(body, status_code=status, headers={"Cache-Control": "no-store",
                                                               "X-Frame-Options": "DENY"})

    def sign_in_first(request: Request) -> RedirectResponse:
        return RedirectResponse(f"/login?next={quote(request.url.path)}", status_code=303)

    def refuse(request: Request, who, permission: str) -> HTMLResponse:
        return page("error.html", request, who, status=403,
                    message=f"The {who.role} role may not {permission}. Ask an admin for a key with that role.")

    def check_form(who: sessions.Session, token: str) -> bool:
        return hmac.compare_digest(who.csrf, token or "")

    def read_page(template: str, build, query: tuple[str, ...] = ()):
        async def handler(request: Request):
            who = current(request)
            if who is None:
                return sign_in_first(request)
            params = {**{k: request.query_params.get(k) for k in query}, **request.path_params}

            def load():
                with workspace.session() as db:
                    return build(db, **params)
            try:
                context = await run_in_threadpool(load)
            except DepthgaugeError as exc:
                return page("error.html", request, who, status=404, message=str(exc))
            return page(template, request, who, **context)
        return handler

    @app.get("/login", response_class=HTMLResponse, include_in_schema=False)
    async def login_form(request: Request, next: str = "/"):
        return HTMLResponse(TEMPLATES.get_template("login.html").render(next=next, error=None, who=None, auth=auth,
                                                                        path="/login"))

    @app.post("/login", include_in_schema=False)
    async def login(request: Request):
        fields = await _form(request)
        key, next = fields.get("key", ""), fields.get("next", "/")
        row = gate.key(key.strip())
        error = None if row is not None else "That key is not valid (or was revoked)."
        if row is not None and not allowed(row.role, "view"):
            error = (f"A {row.role} key calls the API; it cannot sign in to the dashboard. Use a viewer key, or one "
                     "with more rights.")
        if error:
            body = TEMPLATES.get_template("login.html").render(next=next, error=error, who=None, auth=auth,
                                                               path="/login")
            return HTMLResponse(body, status_code=401 if row is None else 403)
        cookie, _ = await run_in_threadpool(sessions.issue, workspace, row.id, row.name, row.role)
        target = next if next.startswith("/") and not next.startswith("//") else "/"
        response = RedirectResponse(target, status_code=303)
        response.set_cookie(sessions.COOKIE, cookie, max_age=sessions.LIFETIME_S, httponly=True, samesite="strict",
                            secure=request.url.scheme == "https", path="/")
        return response

    @app.post("/logout", include_in_schema=False)
    async def logout(request: Request):
        csrf = (await _form(request)).get("csrf", "")
        who = current(request)
        response = RedirectResponse("/login", status_code=303)
        if who is not None and check_form(who, csrf):
            await run_in_threadpool(sessions.end, workspace, request.cookies.get(sessions.COOKIE))
            response.delete_cookie(sessions.COOKIE, path="/")
        return response

    app.add_api_route("/", read_page("overview.html", lambda db: views.overview(db)), methods=["GET"],
                      include_in_schema=False, response_class=HTMLResponse)
    app.add_api_route("/models", read_page("models.html", lambda db: {"models": views.models(db)}), methods=["GET"],
                      include_in_schema=False, response_class=HTMLResponse)
    app.add_api_route("/models/{name}", read_page("model.html", lambda db, name: {"model": views.model_detail(db, name)}),
                      methods=["GET"], include_in_schema=False, response_class=HTMLResponse)
    app.add_api_route("/assessments", read_page("assessments.html", lambda db: {"assessments": views.assessments(db)}),
                      methods=["GET"], include_in_schema=False, response_class=HTMLResponse)
    app.add_api_route("/reviews", read_page("reviews.html", lambda db, model: {
                          "reviews": _queue(db, model), "pending": views.pending_count(db), "model": model,
                          "queues": views.review_queues(db)}, query=("model",)),
                      methods=["GET"],
                      include_in_schema=False, response_class=HTMLResponse)
    app.add_api_route("/monitoring", read_page("monitoring_index.html", lambda db: {"names": views.deployed_names(db)}),
                      methods=["GET"], include_in_schema=False, response_class=HTMLResponse)
    app.add_api_route("/monitoring/{name}", read_page("monitoring.html", lambda db, name: views.monitoring(db, name)),
                      methods=["GET"], include_in_schema=False, response_class=HTMLResponse)
    app.add_api_route("/checklist", read_page("checklist.html", lambda db: {"items": build_checklist(db, None)}),
                      methods=["GET"],
                      include_in_schema=False, response_class=HTMLResponse)
    app.add_api_route("/costs", read_page("costs.html", lambda db: {"projections": views.cost_projections(db)}),
                      methods=["GET"], include_in_schema=False, response_class=HTMLResponse)
    app.add_api_route("/audit", read_page("audit.html", lambda db: {**views.audit_page(db), "verification": None}),
                      methods=["GET"], include_in_schema=False, response_class=HTMLResponse)

    def _queue(db, model: str | None):
        from depthgauge.serve.reviews import queue

        return queue(db, model=model or None)

    @app.get("/assessments/{assessment_id}/report", include_in_schema=False)
    async def assessment_report(request: Request, assessment_id: str):
        who = current(request)
        if who is None:
            return sign_in_first(request)
        from depthgauge.store.tables import AssessmentRow

        with workspace.session() as db:
            row = db.get(AssessmentRow, assessment_id)
        if row is None or not row.report_path or not Path(row.report_path).is_file():
            return page("error.html", request, who, status=404, message=f"No report for assessment '{assessment_id}'.")
        return FileResponse(row.report_path, media_type="text/html", headers={"Cache-Control": "no-store"})

    @app.get("/cards/{ref}", include_in_schema=False)
    async def model_card(request: Request, ref: str):
        who = current(request)
        if who is None:
            return sign_in_first(request)
        from depthgauge.registry.card import card_sections, to_html
        from depthgauge.registry.service import resolve

        try:
            with workspace.session() as db:
                version = resolve(db, ref)
                title, sections = card_sections(db, version, build_checklist(db, version.assessment_id))
        except DepthgaugeError as exc:
            return page("error.html", request, who, status=404, message=str(exc))
        return HTMLResponse(to_html(title, sections), headers={"Cache-Control": "no-store"})

    @app.post("/audit/verify", include_in_schema=False)
    async def audit_verify(request: Request):
        csrf = (await _form(request)).get("csrf", "")
        who = current(request)
        if who is None:
            return sign_in_first(request)
        if not check_form(who, csrf):
            return page("error.html", request, who, status=403, message="The form expired. Reload the page and retry.")
        with workspace.session() as db:
            context = {**views.audit_page(db), "verification": views.audit_verification(db)}
        return page("audit.html", request, who, **context)

    @app.post("/reviews/{review_id}", include_in_schema=False)
    async def decide(request: Request, review_id: str):
        fields = await _form(request)
        decision, label, csrf = fields.get("decision", ""), fields.get("label", ""), fields.get("csrf", "")
        who = current(request)
        if who is None:
            return sign_in_first(request)
        if not allowed(who.role, "review"):
            return refuse(request, who, "review predictions")
        if not check_form(who, csrf):
            return page("error.html", request, who, status=403, message="The form expired. Reload the page and retry.")
        from depthgauge.serve.reviews import decide as decide_review

        try:
            with workspace.transaction(actor=actor_of_session(who)) as db:
                decide_review(db, review_id, decision, label or None, actor_of_session(who))
        except DepthgaugeError as exc:
            return page("error.html", request, who, status=409, message=str(exc))
        queue_of = fields.get("model", "")
        return RedirectResponse("/reviews" + (f"?model={quote(queue_of)}" if queue_of else ""), status_code=303)

    @app.post("/models/{ref}/{action}", include_in_schema=False)
    async def model_action(request: Request, ref: str, action: str):
        fields = await _form(request)
        note, alias, csrf = fields.get("note", ""), fields.get("alias", "production"), fields.get("csrf", "")
        who = current(request)
        if who is None:
            return sign_in_first(request)
        if action not in ("approve", "promote"):
            return page("error.html", request, who, status=404, message=f"Unknown action '{action}'.")
        if not allowed(who.role, "deploy"):
            return refuse(request, who, f"{action} model versions")
        if not check_form(who, csrf):
            return page("error.html", request, who, status=403, message="The form expired. Reload the page and retry.")
        from depthgauge.registry import service as registry

        try:
            if action == "promote":
                from depthgauge.monitor.replay import gate_promotion

                gate_promotion(workspace, ref, alias, reviewed=note or None, actor=actor_of_session(who))
            with workspace.transaction(actor=actor_of_session(who)) as db:
                version = (registry.approve(db, ref, note) if action == "approve"
                           else registry.promote(db, ref, alias))
                name = version.model_name
        except DepthgaugeError as exc:
            return page("error.html", request, who, status=409, message=str(exc))
        return RedirectResponse(f"/models/{quote(name)}", status_code=303)

    @app.get("/favicon.ico", include_in_schema=False)
    async def favicon():
        return Response(status_code=204)

