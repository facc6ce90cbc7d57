"""A client we did not write: a Python client generated from our OpenAPI schema with openapi-python-client,
used unchanged, runs the whole flow against a live server and a real qcluster: a token, an upload and its
progress, a template, a campaign, its preview, start and stats, a batch send with variables, cursor pages,
and a task's state. Every answer must be one the schema declares (unexpected statuses raise).
"""

from __future__ import annotations

import importlib
import io
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.management import call_command

from inboxerr.tests.factories import UserFactory
from tests.campaign_nodes import gateway_for_nodes
from tests.cluster import Node

KEY = "generated-client-signing-key"
PASSWORD = "correct horse battery staple"
CSV = b"Name,Phone,Order No.\n" + b"".join(f"Person {i},07400 {100000 + i},A-{i}\n".encode() for i in range(5))


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> str:
    """Generate the client from the schema the server serves, as a user of the API would; its package name."""
    out = tmp_path_factory.mktemp("client")
    schema = out / "schema.yaml"
    call_command("spectacular", "--file", str(schema))
    generated = subprocess.run(
        [sys.executable, "-m", "openapi_python_client", "generate", "--path", str(schema), "--meta", "none",
         "--output-path", str(out / "inboxerr_client")],
        capture_output=True, text=True, env={"PATH": str(Path(sys.executable).parent)},
    )  # fmt: skip
    assert generated.returncode == 0, generated.stdout + generated.stderr
    assert "Warning" not in generated.stdout, generated.stdout
    sys.path.insert(0, str(out))
    yield "inboxerr_client"
    sys.path.remove(str(out))


def module(package: str, name: str):
    return importlib.import_module(f"{package}.{name}")


def test_every_generated_module_imports(generated):
    api = Path(module(generated, "api.v1").__file__).parent
    names = sorted(path.stem for path in api.glob("v1_*.py"))

    assert len(names) > 40
    for name in names:
        module(generated, f"api.v1.{name}")


def cursor_of(url: str | None) -> str:
    assert url, "no next page"
    return parse_qs(urlsplit(url).query)["cursor"][0]


def poll(read, done, seconds: float = 60):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = read()
        if done(value):
            return value
        time.sleep(0.2)
    raise AssertionError(f"not done after {seconds} s: {value}")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_whole_flow_through_the_generated_client(generated, live_server, settings, tmp_path):
    settings.SMS_WEBHOOK_SIGNING_KEY = KEY
    settings.IMPORT_TMP_DIR = tmp_path / "uploads"
    UserFactory(username="ann", password=PASSWORD)
    c = lambda name: module(generated, name)  # noqa: E731
    models, types, v1 = c("models"), c("types"), "api.v1"

    with (
        gateway_for_nodes(live_server.url, tmp_path, signing_key=KEY, IMPORT_TMP_DIR=str(tmp_path / "uploads")) as (
            _,
            env,
        ),
        Node("flow", env, log_dir=tmp_path),
    ):
        anonymous = c("client").Client(base_url=live_server.url, raise_on_unexpected_status=True)
        token = c(f"{v1}.v1_auth_token_create").sync(
            client=anonymous, body=models.CredentialsRequest(username="ann", password=PASSWORD)
        )
        api = c("client").AuthenticatedClient(
            base_url=live_server.url, token=token.token, prefix="Token", raise_on_unexpected_status=True
        )

        # An upload answers 202 at once; the import's progress is read until it ends.
        upload = models.ImportUploadRequest(
            file=types.File(payload=io.BytesIO(CSV), file_name="contacts.csv", mime_type="text/csv"),
            default_region="GB",
        )
        accepted = c(f"{v1}.v1_imports_create").sync_detailed(client=api, body=upload)
        assert accepted.status_code == 202
        job = poll(
            lambda: c(f"{v1}.v1_imports_retrieve").sync(client=api, id=accepted.parsed.id),
            lambda job: job.status != models.ImportStatusEnum.PROCESSING,
        )
        assert (job.status, job.imported_rows) == (models.ImportStatusEnum.SUCCESS, 5)

        # Its contacts, two a page, following the cursor.
        first = c(f"{v1}.v1_imports_contacts_list").sync(client=api, id=job.id, page_size=2)
        second = c(f"{v1}.v1_imports_contacts_list").sync(
            client=api, id=job.id, page_size=2, cursor=cursor_of(first.next_)
        )
        assert [contact.phone for contact in first.results + second.results] == [
            f"+447400{100000 + i}" for i in range(4)
        ]

        template = c(f"{v1}.v1_templates_create").sync(
            client=api,
            body=models.MessageTemplateRequest(name="Shipped", content="Hi {{ name }}, order {{ order_no }}"),
        )
        campaign = c(f"{v1}.v1_campaigns_create").sync(
            client=api, body=models.CampaignWriteRequest(name="Spring", template_id=template.id, import_id=job.id)
        )
        preview = c(f"{v1}.v1_campaigns_preview_retrieve").sync(client=api, id=campaign.id, limit=2)
        assert [m.rendered for m in preview.messages] == ["Hi Person 0, order A-0", "Hi Person 1, order A-1"]
        assert preview.recipients == 5

        started = c(f"{v1}.v1_campaigns_start_create").sync_detailed(client=api, id=campaign.id)
        assert started.status_code == 202
        stats = poll(
            lambda: c(f"{v1}.v1_campaigns_stats_retrieve").sync(client=api, id=campaign.id),
            lambda stats: stats.messages == 5 and stats.progress_percent == 100.0,
        )
        assert stats.recipients == 5

        # A batch, each recipient with its own variables; its task's state.
        recipients = [
            models.RecipientRequest(
                phone=f"07400 20000{i}", variables=models.RecipientRequestVariables.from_dict({"who": who})
            )
            for i, who in enumerate(["Bo", "Cy", "Di"])
        ]
        queued = c(f"{v1}.v1_messages_batch_create").sync_detailed(
            client=api, body=models.BatchRequest(content="Hello {{ who }}", recipients=recipients)
        )
        assert queued.status_code == 202
        task = poll(
            lambda: c(f"{v1}.v1_tasks_retrieve").sync(client=api, id=queued.parsed.task_id),
            lambda task: task.status == models.TaskStatusEnum.SUCCEEDED,
        )
        assert (task.total, task.done) == (3, 3)

        # Every message, three a page, newest first, following the cursor to the end.
        seen, cursor = [], types.UNSET
        while True:
            page = c(f"{v1}.v1_messages_list").sync(client=api, page_size=3, cursor=cursor)
            seen += [message.content for message in page.results]
            if not page.next_:
                break
            cursor = cursor_of(page.next_)
        assert sorted(seen[:3]) == ["Hello Bo", "Hello Cy", "Hello Di"]
        assert len(seen) == 8

        # The import's row errors as a CSV download.
        errors = c(f"{v1}.v1_imports_errors_csv_retrieve").sync_detailed(client=api, id=job.id)
        assert errors.status_code == 200
        assert errors.headers["content-type"].startswith("text/csv")
        assert errors.content.decode().splitlines()[0] == "row,column,message"
