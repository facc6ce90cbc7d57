"""Staff, in a real browser, upload contacts, write a template, start a campaign and see it delivered.

Everything runs as in production: the upload is parsed and the campaign fanned out and sent by a real
`manage.py qcluster` process (ORM broker, on the test database), through the android backend to the
gateway simulator, whose signed receipts come back to the live server the browser talks to.
"""

from __future__ import annotations

import contextlib
import os
import re
import time
from pathlib import Path

import pytest
from django.db import connection
from playwright.sync_api import Page, expect, sync_playwright

from conftest import CHROMIUM
from inboxerr.tests.factories import UserFactory
from messaging.models import Message
from messaging.simulator import SimulatorConfig, SimulatorThread
from tests.browser.pages import choose
from tests.cluster import Node, database_url

KEY = "admin-walk-signing-key"
PASSWORD = "correct horse battery staple"
CONTACTS = {"+447400000001": ("Ann", "A1"), "+447400000002": ("Bob", "B2"), "+447400000003": ("Cy", "C3")}
CSV = "phone,name,code\n" + "".join(f"0{p[3:]},{name},{code}\n" for p, (name, code) in CONTACTS.items())
TEMPLATE = "Hello {{ name }}, your code is {{ code }}."
# Generous: the machine running the suite may be busy; every wait ends as soon as its condition holds.
WAIT_MS = 45_000

pytestmark = [pytest.mark.browser, pytest.mark.postgres]


@pytest.fixture
def staff():
    return UserFactory(is_staff=True, is_superuser=True, password=PASSWORD)


@pytest.fixture
def gateway(live_server, settings):
    config = SimulatorConfig(port=0, latency_ms=5, webhook_delay_ms=5, signing_key=KEY,
                             webhook_urls=[f"{live_server.url}/api/v1/webhooks/android"])  # fmt: skip
    settings.SMS_WEBHOOK_SIGNING_KEY = KEY
    with SimulatorThread(config) as sim:
        yield sim


@pytest.fixture
def upload_dir(settings, tmp_path):
    settings.IMPORT_TMP_DIR = tmp_path / "uploads"
    return settings.IMPORT_TMP_DIR


@pytest.fixture
def qcluster(gateway, upload_dir, tmp_path, settings):
    """A real task-queue cluster on the test database, stopped (with every process it forked) at teardown."""
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="inboxerr.settings",
        DATABASE_URL=database_url(connection.settings_dict),
        # The broker the live server queues to: the test database's ORM queue unless REDIS_URL is set.
        REDIS_URL=settings.REDIS_URL,
        # Its own directories: the cleanup schedule may run at once and must not touch anyone else's files.
        IMPORT_TMP_DIR=str(upload_dir),
        PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "prometheus"),
        IMPORT_PARSE_PROCESSES="0",
        Q_WORKERS="2",
        SMS_BACKEND="android",
        SMS_GATEWAY_URL=gateway.url,
        SMS_GATEWAY_LOGIN="sim",
        SMS_GATEWAY_PASSWORD="sim",
        SMS_DISPATCH_SECONDS="10",
    )
    with Node("admin-walk", env, log_dir=tmp_path) as node:
        yield node.log


@contextlib.contextmanager
def evidence_on_failure(page: Page, directory: Path, log: Path):
    """Turn any failure into an AssertionError naming a screenshot and the HTML of the page it happened on."""
    try:
        yield
    except Exception as error:
        shot, html = directory / "failure.png", directory / "failure.html"
        page.screenshot(path=shot, full_page=True)
        html.write_text(page.content())
        raise AssertionError(f"{error}\nAt {page.url}; screenshot {shot}, HTML {html}, worker log {log}") from error


def id_in_url(page: Page) -> int:
    return int(re.search(r"/(\d+)/change/", page.url).group(1))


@pytest.mark.django_db(transaction=True)
def test_staff_send_a_campaign_from_an_uploaded_csv_through_the_admin(staff, live_server, gateway, qcluster, tmp_path):
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"]
        )
        page = browser.new_page(base_url=live_server.url)
        page.set_default_timeout(WAIT_MS)
        expect.set_options(timeout=WAIT_MS)
        with evidence_on_failure(page, tmp_path, qcluster):
            log_in(page, staff.username)
            upload_contacts(page)
            create_template(page, staff.username)
            campaign_id = create_and_start_campaign(page, staff.username)
            watch_until_delivered(page, campaign_id)
        browser.close()

    # Django refuses ORM calls while Playwright's event loop runs in this thread (SynchronousOnlyOperation), so the
    # walk reads everything from the pages and the rows are checked here, once the browser has closed.
    sent = dict(Message.objects.filter(campaign_id=campaign_id).values_list("phone", "content"))
    assert sent == {phone: f"Hello {name}, your code is {code}." for phone, (name, code) in CONTACTS.items()}
    stats = gateway.stats()
    assert (stats["accepted"], stats["duplicate_receipts"]) == (len(CONTACTS), 0), stats


def log_in(page: Page, username: str) -> None:
    page.goto("/admin/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    expect(page.locator("#user-tools strong")).to_have_text(username)


def upload_contacts(page: Page) -> int:
    """From the import list's Upload button through the file's preview to the job's page, which reloads itself
    until the import ends."""
    page.goto("/admin/imports/importjob/")
    page.click("text=Upload contacts")
    page.fill("#id_default_region", "GB")
    page.set_input_files("#id_file", {"name": "contacts.csv", "mimeType": "text/csv", "buffer": CSV.encode()})
    page.click("input[type=submit][value=Upload]")
    expect(page.locator("h2", has_text="Its first rows, as they would be imported")).to_be_visible()
    page.click(f"input[type=submit][value='Import about {len(CONTACTS)} rows']")
    # Not the "uploaded" notice: the page reloads itself every few seconds and the notice goes with the first load.
    page.wait_for_url(re.compile(r"/admin/imports/importjob/\d+/change/$"))
    import_id = id_in_url(page)
    expect(page.locator(".field-status .readonly")).to_have_text("Success")
    expect(page.locator(".field-progress .readonly")).to_have_text(
        f"{len(CONTACTS)} rows read: {len(CONTACTS)} imported, 0 invalid, 0 duplicates"
    )
    return import_id


def create_template(page: Page, owner: str) -> int:
    page.goto("/admin/message_templates/messagetemplate/")
    page.click(".object-tools a.addlink")
    choose(page, "owner", owner, [owner])
    page.fill("#id_name", "Codes")
    page.fill("#id_content", TEMPLATE)
    page.click("input[name=_continue]")
    expect(page.locator(".messagelist .success")).to_be_visible()
    expect(page.locator(".field-variables .readonly")).to_contain_text("code")
    return id_in_url(page)


def create_and_start_campaign(page: Page, owner: str) -> int:
    page.goto("/admin/campaigns/campaign/")
    page.click(".object-tools a.addlink")
    # What the lifecycle writes is not staff's to type in.
    expect(page.locator("#id_frozen_content, #id_fanout_completed_at_0")).to_have_count(0)
    choose(page, "owner", owner, [owner])
    page.fill("#id_name", "Spring codes")
    choose(page, "template", "Codes", ["Codes"])
    choose(page, "import_job", "contacts", ["contacts.csv (SUCCESS)"])
    page.click("input[name=_save]")
    expect(page.locator(".messagelist .success")).to_contain_text("Spring codes")

    row = page.locator("#result_list tbody tr", has_text="Spring codes")
    campaign_id = int(row.locator("input.action-select").get_attribute("value"))
    row.locator("input.action-select").check()
    page.select_option("select[name=action]", "started_campaigns")
    page.click("button[name=index]")
    expect(page.locator(".messagelist .success")).to_have_text("Started 1 campaign(s).")
    expect(row.locator(".field-status")).to_have_text("Running")
    return campaign_id


def watch_until_delivered(page: Page, campaign_id: int) -> None:
    """The campaign page does not refresh itself, so staff reload it; then the message list agrees."""
    page.goto(f"/admin/campaigns/campaign/{campaign_id}/change/")
    delivered = page.locator(".field-breakdown tr", has=page.locator("td", has_text="DELIVERED")).locator("td").nth(1)
    reload_until(page, lambda: delivered.inner_text() == str(len(CONTACTS)))
    expect(delivered).to_have_text(str(len(CONTACTS)))
    expect(page.locator(".field-progress")).to_contain_text(f"100.0% of {len(CONTACTS)} messages")

    page.goto(f"/admin/messaging/message/?campaign__id__exact={campaign_id}")
    expect(page.locator("#result_list tbody td.field-status")).to_have_text(["Delivered"] * len(CONTACTS))


def reload_until(page: Page, condition, seconds: float = WAIT_MS / 1000) -> None:
    """Reload the page, half a second apart, until the condition holds or the time is up (the caller asserts)."""
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        page.wait_for_timeout(500)
        page.reload()
