"""The dashboard in a real browser: sign-in, the overview against the API, reviews, roles, accessibility."""

import re

import httpx
import pytest

from depthgauge.money import usd
from depthgauge.web.routes import _number
from tests.helpers.browser import screenshot, sign_in

PAGES = ["/", "/models", "/models/churn", "/cards/churn:3", "/assessments", "/reviews", "/monitoring", "/monitoring/churn", "/checklist",
         "/costs", "/audit"]


def test_sign_in_refuses_a_bad_key_and_sets_a_strict_http_only_cookie(dashboard, page):
    url, tokens, _ = dashboard
    page.goto(f"{url}/models")
    assert page.url.startswith(f"{url}/login")
    page.fill("#key", "dg_not-a-real-key")
    page.get_by_role("button", name="Sign in").click()
    assert "not valid" in page.get_by_role("alert").inner_text()
    page.fill("#key", tokens["viewer"])
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{url}/models")
    cookie = next(c for c in page.context.cookies() if c["name"] == "depthgauge_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(re.compile(r".*/login"))
    page.goto(f"{url}/")
    assert page.url.startswith(f"{url}/login"), "signed out means signed out"


def test_the_overview_shows_the_numbers_the_api_gives(dashboard, page):
    url, tokens, _ = dashboard
    report = httpx.get(f"{url}/v1/monitor/churn", headers={"Authorization": f"Bearer {tokens['viewer']}"}).json()
    sign_in(page, url, tokens["viewer"])
    tiles = page.locator('[data-model="churn"]')
    text = {name: tiles.locator(f'[data-testid="{name}"]').inner_text() for name in
            ("ref", "holdout", "live", "p50", "p99", "throughput", "cost", "monthly", "drift", "net-value")}
    assert text["ref"] == report["ref"]
    assert text["holdout"] == _number(report["quality"]["holdout"]["value"], 4)
    assert text["live"] == _number(report["quality"]["live"]["value"], 4)
    assert text["p50"] == _number(report["operations"]["latency_p50_ms"])
    assert text["p99"] == _number(report["operations"]["latency_p99_ms"])
    assert text["throughput"] == _number(report["operations"]["throughput_per_s"])
    assert text["cost"] == usd(report["cost"]["cost_per_1k_at_observed_traffic_usd"])
    assert text["monthly"] == usd(report["cost"]["monthly_run_rate_usd"], "/ month")
    assert text["drift"] == _number(report["drift"]["score"])
    assert text["net-value"] == _number(report["business"]["net_value_per_1k"], 6)
    assert "Not applicable" in tiles.locator('[data-testid="hallucination"]').inner_text()
    summary = tiles.locator('[data-testid="summary"] li').all_inner_texts()
    assert len(summary) == 3 and summary[0].startswith("Use ") and "/ month" in summary[1]
    assert summary[2].startswith("How sure:")
    screenshot(page, "overview")


def test_the_report_puts_the_summary_first_and_shows_the_evidence(dashboard, page):
    url, tokens, _ = dashboard
    sign_in(page, url, tokens["viewer"])
    page.goto(f"{url}/assessments")
    with page.expect_navigation():
        page.get_by_role("link", name="HTML report").first.click()
    lines = page.locator("#summary li").all_inner_texts()
    assert len(lines) == 3 and lines[0].startswith("Use ") and "against no model" in lines[1] and "cost" in lines[1]
    for section in ("#assumed", "#economics"):  # what the money assumed; break-even and value against no model
        assert page.locator(section).first.is_visible(), section
    headings = page.locator("h2, h3").all_inner_texts()
    assert headings[0] == "In short" and headings.index("In short") < headings.index("Verdict")
    for section in ("#leaderboard", "#importance", "#cost", "#legend", "[id^=confusion-]"):
        assert page.locator(section).first.is_visible(), section
    importance = page.locator("#importance + p + table tr").all_inner_texts()
    assert len(importance) >= 5 and "repeats" in importance[0]
    cost = page.locator("#cost + table").inner_text()
    assert "instances at peak" in cost and "human review" in cost and "$" in cost
    assert page.locator(".js-plotly-plot").count() >= 6  # the charts drew, offline
    assert page.get_by_text("Permutation importance: drop in").count() >= 1
    screenshot(page, "report")


def test_every_page_renders_and_every_control_has_a_label_and_every_tile_a_heading(dashboard, page):
    url, tokens, _ = dashboard
    sign_in(page, url, tokens["admin"])
    for path in PAGES:
        response = page.goto(f"{url}{path}")
        assert response.status == 200, path
        unlabeled = page.evaluate("""() => [...document.querySelectorAll('input:not([type=hidden]), button, select, textarea')]
            .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label') && !el.textContent.trim())
            .map(el => el.outerHTML)""")
        assert unlabeled == [], f"{path}: controls without a label: {unlabeled}"
        headless_tiles = page.evaluate("""() => [...document.querySelectorAll('section.tile')]
            .filter(t => !t.querySelector('h2, h3')).length""")
        assert headless_tiles == 0, path
        assert page.locator("h1").count() == 1, path
        assert "Traceback" not in page.content()
        screenshot(page, "page" + path.replace("/", "_"))
    page.goto(f"{url}/assessments")
    with page.expect_navigation():
        page.get_by_role("link", name="HTML report").first.click()
    assert "Verdict" in page.content() or "verdict" in page.content()


def test_a_reviewer_resolves_a_review_which_leaves_the_queue_and_enters_the_audit_log(dashboard, page):
    url, tokens, _ = dashboard
    sign_in(page, url, tokens["reviewer"])
    page.goto(f"{url}/reviews")
    first = page.locator("tr[data-review]").first
    review_id = first.get_attribute("data-review")
    before = int(page.get_by_test_id("pending").inner_text())
    first.get_by_role("button", name=f"Approve the prediction of review {review_id}").click()
    page.wait_for_url(f"{url}/reviews")
    assert page.locator(f'tr[data-review="{review_id}"]').count() == 0
    assert int(page.get_by_test_id("pending").inner_text()) == before - 1
    second = page.locator("tr[data-review]").first
    corrected = second.get_attribute("data-review")
    second.get_by_label("Correct label").fill("yes")
    second.get_by_role("button", name=f"Correct review {corrected}").click()
    page.wait_for_url(f"{url}/reviews")
    assert int(page.get_by_test_id("pending").inner_text()) == before - 2
    decided = httpx.get(f"{url}/v1/reviews", params={"status": "corrected"},
                        headers={"Authorization": f"Bearer {tokens['reviewer']}"}).json()["reviews"]
    assert [(r["id"], r["label"]) for r in decided] == [(corrected, "yes")]
    page.goto(f"{url}/audit")
    row = page.locator("tr", has_text=f"review:{review_id}")
    assert "review.decide" in row.inner_text() and "key:reviewer-key" in row.inner_text()
    page.get_by_role("button", name="Verify the chain").click()
    assert "Intact" in page.get_by_role("status").inner_text()
    screenshot(page, "review_resolved_audit")


def test_a_viewer_sees_everything_but_cannot_act(dashboard, page):
    url, tokens, _ = dashboard
    sign_in(page, url, tokens["viewer"])
    page.goto(f"{url}/reviews")
    assert page.get_by_role("button", name=re.compile("Approve")).count() == 0
    assert "Reviewers decide" in page.content()
    page.goto(f"{url}/models/churn")
    assert page.get_by_role("button", name=re.compile("Promote|Approve")).count() == 0
    csrf = page.locator('input[name="csrf"]').first.get_attribute("value")
    review_id = httpx.get(f"{url}/v1/reviews", headers={"Authorization": f"Bearer {tokens['viewer']}"}).json()["reviews"][0]["id"]
    response = page.request.post(f"{url}/reviews/{review_id}", form={"decision": "approve", "csrf": csrf})
    assert response.status == 403 and "may not review" in response.text()
    response = page.request.post(f"{url}/models/churn:2/promote", form={"alias": "production", "csrf": csrf})
    assert response.status == 403


def test_forms_without_the_session_token_are_refused(dashboard, page):
    url, tokens, _ = dashboard
    sign_in(page, url, tokens["admin"])
    review_id = httpx.get(f"{url}/v1/reviews", headers={"Authorization": f"Bearer {tokens['admin']}"}).json()["reviews"][0]["id"]
    response = page.request.post(f"{url}/reviews/{review_id}", form={"decision": "approve", "csrf": "forged"})
    assert response.status == 403 and "form expired" in response.text()
    pending = httpx.get(f"{url}/v1/reviews", headers={"Authorization": f"Bearer {tokens['admin']}"}).json()["reviews"]
    assert review_id in {r["id"] for r in pending}


def test_an_admin_approves_and_promotes_from_the_models_page(dashboard, page):
    url, tokens, _ = dashboard
    sign_in(page, url, tokens["admin"])
    page.goto(f"{url}/models/churn")
    page.get_by_role("button", name="Promote churn:2 to production").click()
    assert "not approved" in page.get_by_role("alert").inner_text()
    page.goto(f"{url}/models/churn")
    page.get_by_label("Approval note").first.fill("reviewed in the dashboard")
    page.get_by_role("button", name="Approve churn:1").click()
    page.wait_for_url(f"{url}/models/churn")
    page.get_by_role("button", name="Promote churn:1 to production").click()
    page.wait_for_url(f"{url}/models/churn")
    assert "production" in page.locator("tr", has_text="churn:1").first.inner_text()
    from sqlalchemy import select

    from depthgauge.store.tables import AuditEventRow, ModelVersionRow
    from depthgauge.workspace import Workspace

    with Workspace.open(dashboard[2]) as workspace, workspace.session() as session:
        actors = dict(session.execute(select(AuditEventRow.action, AuditEventRow.actor)
                                      .where(AuditEventRow.action.in_(["model.approve", "model.alias:production"]))
                                      .order_by(AuditEventRow.seq)).all())
        approved_by = session.scalar(select(ModelVersionRow.approved_by).where(ModelVersionRow.version == 1))
    assert actors == {"model.approve": "key:admin-key", "model.alias:production": "key:admin-key"}
    assert approved_by == "key:admin-key"  # the dashboard user's key, not the server's login name


@pytest.mark.parametrize("path", ["/", "/monitoring", "/reviews"])
def test_an_empty_workspace_says_what_to_do_next(tmp_path, page, path):
    from depthgauge.govern.keys import create_key
    from depthgauge.server import create_app
    from depthgauge.workspace import Workspace
    from tests.helpers.servers import LiveServer

    home = tmp_path / "empty"
    with Workspace.open(home) as workspace, workspace.transaction() as session:
        token = create_key(session, "admin", "admin")[1]
    with LiveServer(create_app(home, monitor_every_s=0)) as url:
        sign_in(page, url, token)
        page.goto(f"{url}{path}")
        assert re.search(r"Nothing (is deployed|to review)", page.content())


def test_the_hallucination_tile_shows_the_latest_evaluation_and_follows_reviews(dashboard, page):
    from depthgauge.genai.service import evaluate, list_latest
    from tests.helpers.grounding import CASES

    url, tokens, home = dashboard
    result = evaluate(CASES, "support-bot", home=home)
    sign_in(page, url, tokens["reviewer"])
    tile = page.locator('[data-feature="support-bot"]')
    expected = list_latest(home)[0]
    assert tile.get_by_test_id("hallucination-rate").inner_text() == f"{expected['hallucination_rate']['value'] * 100:.1f}%"
    assert tile.get_by_test_id("reviewed").inner_text().startswith("0 sentence(s)")
    screenshot(page, "hallucination_tile")
    # A reviewer marks one flagged sentence supported in the review queue; the tile uses the label.
    claim = result["unsupported"][0]
    tile.get_by_role("link", name="review the flagged sentences").click()
    page.wait_for_url(f"{url}/reviews?model=genai%3Asupport-bot")
    row = page.locator(f'tr[data-review="{claim["review_id"]}"]')
    assert claim["sentence"] in row.get_by_test_id("claim").inner_text()
    assert page.locator("tr[data-review]").count() == len(result["unsupported"]), "only this feature's queue"
    row.get_by_role("button", name=f"Mark the claim of review {claim['review_id']} supported").click()
    page.wait_for_url(f"{url}/reviews?model=genai%3Asupport-bot")
    assert page.locator("tr[data-review]").count() == len(result["unsupported"]) - 1
    page.goto(f"{url}/")
    after = list_latest(home)[0]
    assert after["reviewed"] == 1
    assert tile.get_by_test_id("reviewed").inner_text().startswith("1 sentence(s)")
    assert tile.get_by_test_id("hallucination-rate").inner_text() == f"{after['hallucination_rate']['value'] * 100:.1f}%"


def test_the_checklist_reads_the_verdict_and_the_monitored_deployment(dashboard_workspace):
    import depthgauge

    home = dashboard_workspace[0]
    items = {i.key: i for i in depthgauge.checklist(home=home)}
    plan = items["deployment_plan"]
    assert plan.status == "done" and "churn:3 deployed" in plan.evidence[0] and "monitored" in plan.evidence[0]
    assert items["deep_learning_confirmed"].status in ("done", "partial")  # answered by the verdict, never left open
    assert "assessment" in items["deep_learning_confirmed"].evidence[0]


def test_the_quality_tile_shows_the_label_free_estimate_and_a_concept_shift(dashboard, page):
    """The estimate sits beside the labelled quality; when the labels turn (a concept shift) the tile says the two
    disagree and that the labels are right."""
    import httpx
    from sqlalchemy import select

    from depthgauge.monitor.service import run_monitor
    from depthgauge.store.tables import FeedbackRow
    from depthgauge.workspace import Workspace

    url, tokens, home = dashboard
    sign_in(page, url, tokens["viewer"])
    tile = page.locator("section.tile", has=page.locator("#q-churn"))
    estimated = float(tile.get_by_test_id("estimated").inner_text())
    assert 0.5 < estimated < 1.0 and "no labels" in tile.inner_text()
    assert "blind to concept drift" in tile.inner_text() and tile.get_by_test_id("estimate-disagrees").count() == 0
    screenshot(page, "quality_tile_estimate")

    with Workspace.open(home) as workspace, workspace.session() as session:
        labelled = session.execute(select(FeedbackRow.request_id, FeedbackRow.label)).all()
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {tokens['admin']}"}, timeout=30) as client:
        for request_id, label in labelled:
            flipped = {"yes": "no", "no": "yes"}[label]
            assert client.post("/v1/feedback", json={"request_id": request_id, "label": flipped}).status_code == 200
    with Workspace.open(home) as workspace:
        run_monitor(workspace, ["churn"])
    page.reload()
    tile = page.locator("section.tile", has=page.locator("#q-churn"))
    assert float(tile.get_by_test_id("estimated").inner_text()) == estimated, "the inputs did not change"
    assert "concept drift" in tile.get_by_test_id("estimate-disagrees").inner_text()
    assert float(tile.get_by_test_id("live").inner_text()) < estimated
    screenshot(page, "quality_tile_concept_shift")


def test_the_dashboard_refuses_a_promotion_the_replay_gate_fails(dashboard, page):
    """With the gate required, promoting the majority-class baseline over the served LightGBM is refused on the
    page, with the gate's reasons, and production stays where it was."""
    from depthgauge.registry import service as registry
    from depthgauge.workspace import Workspace

    url, tokens, home = dashboard
    with Workspace.open(home) as workspace, workspace.transaction() as session:
        for ref in ("churn:3", "churn:1"):
            registry.approve(session, ref, "gate test")
        registry.promote(session, "churn:3", "production")  # the version that served the fixture's 400 requests
    (home / "replay.yaml").write_text("required_for_production: true\nmin_rows: 100\n")
    sign_in(page, url, tokens["admin"])
    page.goto(f"{url}/models/churn")
    page.get_by_role("button", name="Promote churn:1 to production").click()
    refusal = page.get_by_role("alert").inner_text()
    assert "Promotion of churn:1 to production refused: the replay gate" in refusal
    assert "estimated roc_auc falls" in refusal
    screenshot(page, "promotion_refused_by_replay_gate")
    from sqlalchemy import select

    from depthgauge.store.tables import AuditEventRow

    with Workspace.open(home) as workspace, workspace.session() as session:
        assert registry.resolve(session, "churn@production").ref == "churn:3"
        event = session.scalars(select(AuditEventRow).where(AuditEventRow.action == "model.replay")).one()
    assert event.actor == "key:admin-key" and event.details["outcome"] == "fail"
