"""Telling the operator about a failed run, or one with refusals, the same night.

Owns: the run's summary in a few lines (`summary`), when a run needs telling about (`alerts`: it
failed, refused a file, set rows aside in quarantine, or a source has gone late), what the
message says (`message`: the run id, the reasons, where to look) and delivery to a webhook
and/or by email (`deliver`). A webhook gets a JSON POST of `{"text": ...}`, which Teams and Slack
incoming webhooks both accept; email goes over SMTP (the standard library's smtplib). A notice
that cannot be delivered is logged and recorded in the run's record, and never fails the load.
"""

from __future__ import annotations

import json
import smtplib
import ssl
import urllib.request
from collections.abc import Sequence
from email.message import EmailMessage

from prefect import task
from prefect.cache_policies import NO_CACHE

from flows.load.raw import FileOutcome
from flows.settings import Settings
from flows.warehouse.runlog import FAILED, WITH_REFUSALS, RunRecord, logger


def alerts(
    record: RunRecord,
    refused: list[tuple[str, str]],
    settings: Settings,
    gone_late: Sequence[str] = (),
) -> list[str]:
    """Why this run needs telling about; empty when it does not. `refused` is (file, reason);
    `gone_late` the sources late now that were not at the last run (flows/schedule/freshness.py)."""
    found = []
    if record.status == FAILED:
        found.append(
            f"the run failed and published nothing (the last good warehouse stays): {record.error}"
        )
    if refused:
        found.append(
            f"{len(refused)} file(s) refused: "
            + "; ".join(f"{name}: {reason}" for name, reason in refused[:5])
            + ("; ..." if len(refused) > 5 else "")
        )
    if record.rows_quarantined:
        found.append(f"{record.rows_quarantined:,} row(s) set aside in quarantine")
    found += gone_late
    return found


def summary(record: RunRecord, outcomes: list[FileOutcome]) -> str:
    """The run in a few lines: printed at its end, and the body of its notice."""
    lines = [
        f"Run {record.run_id}: {record.status}"
        + (": nothing new, the published version stays" if record.published is False else ""),
        f"  files: {record.files_loaded} loaded, {record.files_skipped} already loaded, "
        f"{record.files_rejected} rejected; rows loaded: {record.rows_loaded:,}, "
        f"quarantined: {record.rows_quarantined:,}",
        f"  checks: {record.checks_passed} passed, {record.checks_failed} failed (critical), "
        f"{record.checks_warned} warnings",
        "  stages: " + ", ".join(f"{k} {v:.1f}s" for k, v in record.stage_seconds.items()),
    ]
    lines += [f"  rejected {o.path}: {o.reason}" for o in outcomes if o.status == "rejected"]
    lines += [f"  warning: {w}" for w in record.warnings]
    if record.error:
        lines.append(f"  error: {record.error}")
    if record.as_of:
        lines.append(
            f"  as of {record.as_of}" + (f", rerun of {record.rerun_of}" if record.rerun_of else "")
        )
    if record.notified:
        lines.append(f"  operator told: {record.notified}")
    return "\n".join(lines)


def message(
    record: RunRecord, settings: Settings, summary: str, ui_url: str | None = None
) -> tuple[str, str]:
    """Subject and text of the notice: what happened, why, and where to look."""
    if record.status == FAILED:
        subject = f"Bluelight run {record.run_id} failed: nothing published"
    elif record.status == WITH_REFUSALS:
        subject = f"Bluelight run {record.run_id} succeeded with refusals: the rest published"
    else:
        subject = f"Bluelight run {record.run_id} published, with problems to look at"
    run = f"run_id = '{record.run_id}'"
    look = [
        f"the run's record: {settings.run_log} (also audit.load_runs where {run})",
        f"refused files, each with a .reason.txt: {settings.rejected / record.run_id}",
        f"quarantined rows: audit.quarantine where {run}",
        f"failed checks: audit.quality_results where {run} and not success",
        f"the warehouse: {_warehouse(settings)}",
    ]
    if ui_url:
        look.append(f"the run in the Prefect UI: {ui_url}")
    lines = [subject, "", "Why:", *(f"- {a}" for a in record.alerts)]
    if record.warnings:
        lines += ["", "Warnings:", *(f"- {w}" for w in record.warnings)]
    lines += ["", "Where to look:", *(f"- {w}" for w in look), "", summary]
    return subject, "\n".join(lines)


def post_webhook(url: str, text: str, timeout: float = 10) -> None:
    """POST `{"text": text}` as JSON; raises unless the receiver answers 2xx."""
    body = json.dumps({"text": text}).encode("utf-8")
    request = urllib.request.Request(
        url, data=body, method="POST", headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        response.read()


def send_email(settings: Settings, subject: str, text: str, timeout: float = 10) -> None:
    """One plain-text email to every recipient; raises if the server does not take it."""
    mail = EmailMessage()
    mail["Subject"] = subject
    mail["From"] = settings.smtp_from
    mail["To"] = ", ".join(settings.smtp_to)
    mail.set_content(text)
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=timeout) as smtp:
        if settings.smtp_starttls:
            smtp.starttls(context=ssl.create_default_context())
        if settings.smtp_user:
            smtp.login(settings.smtp_user, settings.smtp_password or "")
        smtp.send_message(mail)


# Each channel is a task of its own, retried with back-off (a mail server or a webhook may be
# down for a minute), so a retry of one never resends the other.
@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=[5, 30])
def webhook_task(url: str, text: str) -> None:
    post_webhook(url, text)


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=[5, 30])
def email_task(settings: Settings, subject: str, text: str) -> None:
    send_email(settings, subject, text)


def deliver(settings: Settings, subject: str, text: str, tasks: bool = True) -> str:
    """Send the notice on every configured channel; says how each went, never raises.

    `tasks=False` sends once, without Prefect (outside a flow run)."""
    channels = []
    if settings.notify_webhook:
        webhook = webhook_task if tasks else post_webhook
        channels.append(("webhook", webhook, (settings.notify_webhook, text)))
    if settings.smtp_host and settings.smtp_to:
        channels.append(("email", email_task if tasks else send_email, (settings, subject, text)))
    if not channels:
        return "not configured (set BLUELIGHT_NOTIFY_WEBHOOK, or BLUELIGHT_SMTP_HOST and _TO)"
    outcomes = []
    for name, send, args in channels:
        try:
            send(*args)
            outcomes.append(f"{name} sent")
        except Exception as exc:  # a notice that fails must not fail the load
            logger().error("could not send the %s notice: %s: %s", name, type(exc).__name__, exc)
            outcomes.append(f"{name} failed: {type(exc).__name__}: {exc}")
    return "; ".join(outcomes)


def _warehouse(settings: Settings) -> str:
    """Where to read the published warehouse, as the message says it."""
    from flows.warehouse import backend

    if backend.on_lake(settings):
        return f"{backend.where(settings)} (`bluelight versions` says how to attach it read-only)"
    return f"{settings.published_db} (open it read-only)"
