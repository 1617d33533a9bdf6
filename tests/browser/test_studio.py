"""Given the Studio in headless Chromium over the local stack, each view works as a person uses it.

The tests click and type as a person would, then read what the page shows; screenshots of every
view go to build/studio/ (and docs/studio/ with STUDIO_README_SCREENSHOTS=1).
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.browser.conftest import ADMIN_KEY, MODEL_KEY, Studio, ToolServer

VIEWS = ("graph", "playground", "runs", "tools", "documents", "metrics", "settings")
#: Markup an attacker plants in a document, a title or a prompt; it must show up as text.
HOSTILE = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>'


def new_user() -> str:
    return f"b-{uuid.uuid4().hex[:8]}"


def chat_via_api(base_url: str, prompt: str, user_id: str) -> dict[str, Any]:
    response = httpx.post(
        f"{base_url}/v1/chat",
        json={"prompt": prompt, "user_id": user_id, "metadata": {"no_cache": True}},
        timeout=60,
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def send_chat(studio: Studio, prompt: str, user_id: str) -> None:
    studio.open("playground")
    studio.type("#pg-user", user_id)
    studio.type("#pg-prompt", prompt)
    studio.find("#pg-no-cache").click()
    studio.find("#pg-send").click()
    studio.until(
        lambda _: studio.find("#pg-state").text.startswith("Done"), message="the chat did not finish"
    )


def no_injected_markup(studio: Studio) -> None:
    injected = studio.driver.execute_script(
        "return [document.querySelectorAll('#view img, #view script').length, window.__pwned === undefined]"
    )
    assert injected == [0, True]


# ---------------------------------------------------------------------- the page itself
def test_the_page_is_public_holds_no_data_and_sends_a_strict_policy(base_url: str, secured_url: str) -> None:
    page = httpx.get(f"{secured_url}/studio")
    script = httpx.get(f"{secured_url}/studio/static/app.js")
    api_call = httpx.get(f"{secured_url}/v1/tools/list")
    operations = httpx.get(f"{base_url}/openapi.json").json()["paths"]

    assert page.status_code == 200 and "Orchestrator Studio" in page.text
    assert script.status_code == 200
    policy = page.headers["content-security-policy"]
    for directive in (
        "default-src 'self'",
        "script-src 'self'",
        "connect-src 'self'",
        "frame-ancestors 'none'",
    ):
        assert directive in policy
    assert "unsafe" not in policy
    assert script.headers["content-security-policy"] == policy
    assert "<script>" not in page.text  # no inline script: every script is a file under /studio/static
    assert api_call.status_code == 401  # the data stays behind the key
    assert not [path for path in operations if path.startswith("/studio")]


def test_every_view_loads_without_console_errors(studio: Studio) -> None:
    studio.console_errors()  # drain what earlier pages logged
    for view in VIEWS:
        studio.open(view)

        alerts = [element.text for element in studio.find_all("#view [role=alert]")]
        assert alerts == [], (view, alerts)
        assert studio.console_errors() == [], view
        studio.screenshot(view)


def test_the_graph_is_drawn_from_the_state_machine_definition(studio: Studio) -> None:
    asl = json.loads((Path(__file__).resolve().parents[2] / "statemachine/orchestrator.asl.json").read_text())
    studio.open("graph")
    canvas = studio.wait_for("#graph-canvas[data-nodes]")

    assert studio.find("#graph-status").text.startswith(f"{int(canvas.get_attribute('data-nodes'))} states")
    inner = sum(
        len((s.get("ItemProcessor") or s.get("Iterator") or {}).get("States", {}))
        for s in asl["States"].values()
    )
    assert int(canvas.get_attribute("data-nodes")) == len(asl["States"]) + inner
    # The drawing holds every state by name: the intent branches, the Map fan-outs and the failure path.
    names = set(canvas.get_attribute("data-states").split("|"))
    assert {
        "Route by intent",
        "Run tools",
        "Run tool call",
        "Run plan wave",
        "Record failed turn",
        "Run failed",
    } <= names
    studio.screenshot("graph")

    studio.find("details:has(#graph-states) > summary").click()  # the states as a table
    studio.find("#graph-states tr[data-state='Classify intent'] button").click()
    detail = studio.find("#graph-detail").text
    assert "IntentRouterFunction" in detail and "route" in detail and "Record failed turn (catch" in detail


# ---------------------------------------------------------------------- playground and runs
def test_a_streamed_chat_shows_its_answer_and_lights_up_its_path_then_its_timeline(studio: Studio) -> None:
    send_chat(studio, "Explain what a compiler does.", new_user())

    assert "compiler" in studio.find("#pg-answer").text
    assert "confidence" in studio.find("#pg-intent").text
    highlighted = studio.wait_for("#pg-graph[data-highlighted]").get_attribute("data-highlighted").split("|")
    assert {
        "Start run",
        "Classify intent",
        "Route by intent",
        "Answer with model",
        "Remember turn",
        "Done",
    } <= set(highlighted)
    assert "Run failed" not in highlighted and "Plan steps" not in highlighted
    assert studio.console_errors() == []
    studio.screenshot("playground")

    studio.find("#pg-timeline").click()
    studio.wait_for("#run-timeline[data-spans]")
    spans = studio.find_all("#timeline .span")
    assert len(spans) >= 3
    nodes = [span.get_attribute("data-node") for span in spans]
    assert "intent_router" in nodes and "llm_agent" in nodes
    spans[0].find_element("css selector", "summary").click()
    assert spans[0].find_element("css selector", "pre").text.strip()  # its clipped input
    studio.screenshot("runs")


def test_a_tool_turn_shows_its_tool_calls_and_lights_up_the_map_fan_out(studio: Studio) -> None:
    send_chat(studio, "What is 1234 * 5678?", new_user())

    assert "calculator" in studio.find("#pg-tools").text
    assert "7006652" in studio.find("#pg-tools").text  # the tool's result, as the stream reported it
    highlighted = set(
        studio.wait_for("#pg-graph[data-highlighted]").get_attribute("data-highlighted").split("|")
    )
    assert {
        "Select tools",
        "Any tool calls?",
        "Run tools",
        "Run tool call",
        "Answer with model",
        "Done",
    } <= highlighted
    assert "Retrieve context" not in highlighted and "Hand over for approval" not in highlighted
    studio.screenshot("playground")


def test_the_runs_list_filters_by_user_and_status(studio: Studio, base_url: str) -> None:
    who = new_user()
    run = chat_via_api(base_url, "What is a hash table?", who)
    studio.open("runs")

    studio.type("#runs-user", who)
    studio.find("#runs-filters button").click()
    studio.until(lambda _: studio.find("#runs-list").get_attribute("data-count") == "1")
    assert studio.find("#runs-list a.run-link").text == run["run_id"]

    studio.driver.execute_script("document.getElementById('runs-status').value = 'FAILED'")
    studio.find("#runs-filters button").click()
    studio.until(lambda _: studio.find("#runs-list").get_attribute("data-count") == "0")


def test_an_asynchronous_run_is_watched_live(studio: Studio) -> None:
    studio.open("runs")
    studio.type("#ar-user", new_user())
    studio.type("#ar-prompt", "Summarise what a linker does.")
    studio.find("#ar-form button").click()

    studio.until(lambda _: "SUCCEEDED" in studio.find("#ar-state").text, message="the run did not succeed")
    kinds = [item.text.split(" ")[0] for item in studio.find_all("#ar-events li")]
    assert "intent" in kinds and kinds[-1] == "done"
    assert int(studio.find("#run-timeline").get_attribute("data-spans")) >= 3


# ---------------------------------------------------------------------- tools and documents
def test_a_tool_is_registered_executed_and_deleted(studio: Studio, tool_server: ToolServer) -> None:
    from selenium.webdriver.support.ui import Select

    name = f"weather_{uuid.uuid4().hex[:6]}"
    definition = {
        "name": name,
        "description": "Forecast for a city (a test server on 127.0.0.1).",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
        "kind": "http",
        "http": {"url": f"http://127.0.0.1:{tool_server.port}/weather", "method": "GET"},
    }
    studio.open("tools")
    studio.driver.execute_script(
        "document.getElementById('tool-definition').value = arguments[0]", json.dumps(definition)
    )
    studio.find("#tool-register button").click()
    studio.wait_for("#tool-registered .ok")
    studio.wait_for(f"#tools-list tr[data-tool='{name}']")

    Select(studio.find("#tool-name")).select_by_value(name)
    studio.type("#tool-args", '{"city": "Lisbon"}')
    studio.find("#tool-try button").click()
    output = studio.wait_for("#tool-output")
    assert studio.find("#tool-result [data-ok]").get_attribute("data-ok") == "true"
    assert "Lisbon" in output.text and "sunny" in output.text
    studio.screenshot("tools")

    studio.find(f"button[data-delete='{name}']").click()
    studio.until(lambda _: not studio.find_all(f"#tools-list tr[data-tool='{name}']"))
    assert studio.find_all("#routes li[data-route='chat'] .examples li")  # routes with example utterances


def upload(studio: Studio, path: Path, user_id: str, title: str | None = None) -> None:
    studio.open("documents")
    studio.type("#doc-user", user_id)
    studio.driver.execute_script("document.getElementById('doc-user').dispatchEvent(new Event('change'))")
    studio.find("#doc-file").send_keys(str(path))
    if title:
        studio.type("#doc-title", title)
    studio.find("#doc-upload button").click()
    studio.wait_for("#doc-stored")


def search(studio: Studio, query: str) -> list[Any]:
    studio.type("#doc-query", query)
    studio.find("#doc-search button").click()
    studio.wait_for("#passage-list")
    return studio.find_all("#passage-list > li")


def test_a_document_is_uploaded_listed_searched_and_deleted(studio: Studio, tmp_path: Path) -> None:
    who = new_user()
    path = tmp_path / "zephyr-notes.txt"
    path.write_text(
        "Project Zephyr notes.\n\nThe Zephyr launch window opens on 14 March; its codename is BLUEFIN-42.\n\n"
        "Unrelated: the cafeteria serves soup on Fridays.\n"
    )
    upload(studio, path, who, title="Zephyr notes")

    rows = studio.find_all("#doc-list tr[data-doc]")
    assert len(rows) == 1 and "Zephyr notes" in rows[0].text
    passages = search(studio, "What is the Zephyr codename?")
    assert passages and "BLUEFIN-42" in passages[0].text
    studio.screenshot("documents")

    rows[0].find_element("css selector", "button.danger").click()
    studio.until(lambda _: studio.find("#doc-list").get_attribute("data-count") == "0")


def test_hostile_markup_in_documents_and_answers_renders_as_text(studio: Studio, tmp_path: Path) -> None:
    who = new_user()
    path = tmp_path / "hostile.txt"
    path.write_text(f"Quarterly pwn report. {HOSTILE} The pwn budget is 42 gold coins.\n")
    studio.driver.execute_script("delete window.__pwned")

    upload(studio, path, who, title=HOSTILE)
    assert HOSTILE in studio.find("#doc-list").text
    passages = search(studio, "What is the pwn budget?")
    assert passages and "<script>" in passages[0].text
    no_injected_markup(studio)

    send_chat(studio, f"According to my documents, what is the pwn budget? {HOSTILE}", who)
    assert "<img src=x" in studio.find("#pg-answer").text
    no_injected_markup(studio)


# ---------------------------------------------------------------------- metrics and settings
def test_metrics_show_the_runs_as_charts(studio: Studio, base_url: str) -> None:
    for prompt in ("What is recursion?", "What is a closure?"):
        chat_via_api(base_url, prompt, new_user())
    studio.open("metrics")

    studio.wait_for("#metrics-charts[data-charts]")
    assert int(studio.find("#metrics-charts").get_attribute("data-charts")) >= 3
    assert len(studio.find_all("#metrics-charts canvas")) >= 3
    requests = studio.find_all("#metrics-figures .figure .value")[0].text
    assert int(requests) >= 2
    studio.screenshot("metrics")


def test_settings_show_the_configuration_with_secrets_masked(studio: Studio) -> None:
    studio.open("settings")
    row = studio.wait_for("#settings-body tr[data-setting='llm_api_key']")

    assert "••••" in row.text
    assert MODEL_KEY not in studio.driver.page_source
    assert studio.find("#settings-body .figure .value").text == "offline"
    studio.screenshot("settings")


# ---------------------------------------------------------------------- auth
@pytest.fixture
def secured_studio(driver: Any, secured_url: str) -> Any:
    studio = Studio(driver, secured_url)
    yield studio
    studio.console_errors()  # the refused calls log 401s: not the next test's concern


def test_with_auth_on_the_page_asks_for_the_key_once_and_works_with_it(secured_studio: Studio) -> None:
    studio = secured_studio
    studio.open("tools")

    studio.wait_for("#key-dialog[open]")
    assert studio.find("#tools-list [role=alert]").get_attribute("data-code") == "unauthorized"

    studio.type("#key-input", "not-the-key-0123456789")
    studio.find("#key-save").click()
    studio.wait_for("#key-dialog[open]")
    assert "refused" in studio.find("#key-reason").text

    studio.type("#key-input", ADMIN_KEY)
    studio.find("#key-save").click()
    studio.until(lambda _: int(studio.find("#tools-list").get_attribute("data-count") or 0) > 0)
    assert not studio.find_all("#key-dialog[open]")
    studio.open("tools")  # a reload keeps the key
    studio.until(lambda _: int(studio.find("#tools-list").get_attribute("data-count") or 0) > 0)

    studio.find("#sign-out").click()
    studio.wait_for("#key-dialog[open]")
