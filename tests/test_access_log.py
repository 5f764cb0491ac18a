"""The access log: appends from several processes and threads chain whole with every entry
present; an edit, a deletion, an insertion, a reordering or a cut is found at its line, by
verify(), by `bluelight access-log --verify` and by the hand check in docs/security.md; the
listing shows the entries."""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import sys
import threading
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from conftest import bluelight, settings_for

from flows.security import access_log as log
from flows.settings import PROJECT_ROOT

PROCESSES, THREADS, EACH = 4, 3, 20


def _append_from_threads(path: str, process: int) -> None:
    """THREADS threads of one process, each appending EACH page views naming itself."""

    def views(thread: int) -> None:
        for i in range(EACH):
            log.append(
                Path(path), "page-view", f"p{process}@example.org", detail=[process, thread, i]
            )

    threads = [threading.Thread(target=views, args=(t,)) for t in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def test_appends_from_several_processes_and_threads_chain_whole(tmp_path):
    path = tmp_path / "access" / "access.jsonl"
    spawn = multiprocessing.get_context("spawn")
    workers = [
        spawn.Process(target=_append_from_threads, args=(str(path), p)) for p in range(PROCESSES)
    ]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=120)
    assert [w.exitcode for w in workers] == [0] * PROCESSES

    total = PROCESSES * THREADS * EACH
    verdict = log.verify(path)
    assert verdict.whole, verdict
    assert verdict.count == total
    entries = [e for _, e in log.entries(path)]
    assert [e["n"] for e in entries] == list(range(1, total + 1))
    written = sorted(tuple(e["detail"]) for e in entries)
    assert written == [
        (p, t, i) for p in range(PROCESSES) for t in range(THREADS) for i in range(EACH)
    ]
    # Each entry is stamped under the lock, so time runs with the file.
    stamps = [e["at"] for e in entries]
    assert stamps == sorted(stamps)
    assert verdict.tip == {"count": total, "hash": entries[-1]["hash"]}


def test_the_chain_by_hand(tmp_path):
    """The format an auditor can check without Bluelight: each `prev` is the sha256 of the line
    before it as written (the first, of "bluelight access log"); `hash` that of the entry's
    fields before it, written compactly."""
    path = tmp_path / "access.jsonl"
    log.append(path, "sign-in", "ann@example.org", detail="commissioner")
    log.append(path, "export", "ann@example.org", page="Bid", bid="B1", rows=12, sha256="0" * 64)
    first, second = path.read_text().splitlines()
    assert json.loads(first)["prev"] == hashlib.sha256(b"bluelight access log").hexdigest()
    assert json.loads(second)["prev"] == hashlib.sha256(first.encode()).hexdigest()
    body = second[: second.index(',"hash":')] + "}"
    assert json.loads(second)["hash"] == hashlib.sha256(body.encode()).hexdigest()
    assert json.loads(second) | {"at": None, "prev": None, "hash": None} == {
        "n": 2,
        "at": None,
        "event": "export",
        "who": "ann@example.org",
        "page": "Bid",
        "bid": "B1",
        "rows": 12,
        "sha256": "0" * 64,
        "detail": None,
        "prev": None,
        "hash": None,
    }
    stamp = datetime.fromisoformat(json.loads(first)["at"])
    assert stamp.utcoffset() == timedelta(0)
    assert abs(datetime.now(UTC) - stamp) < timedelta(minutes=5)


def _five(tmp_path) -> tuple[Path, list[str]]:
    """A log of five entries in the default place of a data directory, and its lines."""
    path = settings_for(tmp_path).access_log
    for n in range(1, 6):
        log.append(path, "page-view", "ann@example.org", page=f"page {n}", bid="B1")
    return path, path.read_text().splitlines(keepends=True)


def _broken(path: Path, lines: list[str]):
    path.write_text("".join(lines))
    verdict = log.verify(path)
    assert not verdict.whole
    return verdict


def test_an_edited_field_is_found_at_its_line(tmp_path, capsys):
    path, lines = _five(tmp_path)
    assert path == tmp_path / "access" / "access.jsonl"
    assert bluelight(tmp_path, "access-log", "--verify") == 0
    assert "Whole: 5 entries" in capsys.readouterr().out
    lines[2] = lines[2].replace('"who":"ann@example.org"', '"who":"bob@example.org"')
    verdict = _broken(path, lines)
    assert (verdict.line, verdict.count) == (3, 2)
    assert "edited" in verdict.reason
    capsys.readouterr()
    assert bluelight(tmp_path, "access-log", "--verify") == 1
    assert f"Broken at line 3 of {path}" in capsys.readouterr().err


def _rehashed(line: str, **changes) -> str:
    """`line` with `changes` made and its own hash worked out again, as a careful editor would."""
    entry = json.loads(line) | changes
    del entry["hash"]
    entry["hash"] = hashlib.sha256(json.dumps(entry, separators=(",", ":")).encode()).hexdigest()
    return json.dumps(entry, separators=(",", ":")) + "\n"


def test_an_edit_that_rehashes_its_entry_is_found_at_the_next_line(tmp_path):
    path, lines = _five(tmp_path)
    lines[2] = _rehashed(lines[2], who="bob@example.org")
    verdict = _broken(path, lines)
    assert verdict.line == 4
    assert "does not follow line 3" in verdict.reason


def test_a_rehashed_edit_of_the_newest_entry_shows_through_the_tip(tmp_path):
    path, lines = _five(tmp_path)
    lines[4] = _rehashed(lines[4], who="bob@example.org")
    verdict = _broken(path, lines)
    assert verdict.line == 5 and "replaced" in verdict.reason


def test_a_deleted_line_is_found(tmp_path):
    path, lines = _five(tmp_path)
    del lines[1]
    verdict = _broken(path, lines)
    assert verdict.line == 2
    assert "entry 3 where entry 2 belongs" in verdict.reason


def test_a_deleted_first_line_is_found(tmp_path):
    path, lines = _five(tmp_path)
    del lines[0]
    assert _broken(path, lines).line == 1


def test_swapped_lines_are_found(tmp_path):
    path, lines = _five(tmp_path)
    lines[1], lines[3] = lines[3], lines[1]
    assert _broken(path, lines).line == 2


def test_an_inserted_line_is_found(tmp_path):
    path, lines = _five(tmp_path)
    lines.insert(2, lines[1])
    assert _broken(path, lines).line == 3


def test_a_cut_last_line_is_found_and_nothing_more_is_appended(tmp_path):
    path, lines = _five(tmp_path)
    lines[4] = lines[4][:40]
    verdict = _broken(path, lines)
    assert (verdict.line, verdict.count) == (5, 4)
    assert "cut short" in verdict.reason
    with pytest.raises(log.AccessLogBroken, match="cut short"):
        log.append(path, "sign-in", "ann@example.org")


def test_deleting_the_newest_entries_shows_through_the_tip_only(tmp_path, capsys):
    """The chain alone cannot show its newest entries deleted: the tip file can, while it is
    kept (docs/security.md)."""
    path, lines = _five(tmp_path)
    verdict = _broken(path, lines[:3])
    assert (verdict.line, verdict.count) == (4, 3)
    assert "tip records 5" in verdict.reason
    log.tip_path(path).unlink()
    assert log.verify(path).whole and log.verify(path).count == 3


def test_a_missing_log_with_a_tip_is_broken_and_an_empty_one_whole(tmp_path, capsys):
    assert bluelight(tmp_path, "access-log", "--verify") == 0
    assert "Whole: nothing has been logged yet" in capsys.readouterr().out
    path, _ = _five(tmp_path)
    path.unlink()
    assert bluelight(tmp_path, "access-log", "--verify") == 1
    assert "the log is missing" in capsys.readouterr().err


def test_an_unknown_event_or_no_one_is_not_logged(tmp_path):
    path = tmp_path / "access.jsonl"
    with pytest.raises(ValueError, match="unknown access event"):
        log.append(path, "download", "ann@example.org")
    with pytest.raises(ValueError, match="needs who"):
        log.append(path, "sign-in", "")
    assert not path.exists()


def test_the_command_lists_the_entries(tmp_path, capsys):
    path = settings_for(tmp_path).access_log
    log.append(path, "sign-in", "ann@example.org", detail="commissioner")
    log.append(path, "export", "ann@example.org", page="Bid", bid="B1", rows=1234, sha256="ab" * 32)
    log.append(path, "refusal", "eve@example.org", detail="no role")
    capsys.readouterr()
    assert bluelight(tmp_path, "access-log") == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0] == f"Access log: {path} (3 entries)"
    assert table[2].split() == [
        "n",
        "at",
        "(UTC)",
        "event",
        "who",
        "page",
        "bid",
        "rows",
        "file",
    ] + [
        "sha256",
        "detail",
    ]
    assert table[4].split()[3:] == ["export", "ann@example.org", "Bid", "B1", "1,234", "ab" * 6]
    assert table[5].split()[3:] == ["refusal", "eve@example.org", "no", "role"]

    day = date.fromisoformat(log.entries(path)[0][1]["at"][:10])
    assert bluelight(tmp_path, "access-log", "--json", "--since", day.isoformat()) == 0
    listed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [e["event"] for e in listed] == ["sign-in", "export", "refusal"]
    assert listed[1]["rows"] == 1234
    later = (day + timedelta(days=1)).isoformat()
    assert bluelight(tmp_path, "access-log", "--since", later) == 0
    assert capsys.readouterr().out == f"Access log: {path}: no entries since {later}.\n"


def test_the_log_lives_outside_the_published_warehouse_and_is_not_world_readable(tmp_path):
    settings = settings_for(tmp_path)
    path, _ = _five(tmp_path)
    assert settings.warehouse_dir not in path.parents
    assert path.stat().st_mode & 0o777 == 0o640
    assert path.parent.stat().st_mode & 0o777 == 0o750


def _hand_check() -> str:
    """The Python block of docs/security.md that checks the chain without Bluelight."""
    text = (PROJECT_ROOT / "docs" / "security.md").read_text()
    after = text.split("<!-- check: the hand check", 1)[1]
    return after.split("```python\n", 1)[1].split("```", 1)[0]


def test_the_hand_check_in_the_docs_agrees(tmp_path, monkeypatch, capsys):
    path, lines = _five(tmp_path)
    code = compile(_hand_check(), "docs/security.md", "exec")
    monkeypatch.setattr(sys, "argv", ["check", str(path)])
    exec(code, {})
    last = log.verify(path).last_hash
    assert capsys.readouterr().out == f"whole: 5 entries, the last with hash {last}\n"
    for broken in (
        lines[:2] + [lines[2].replace("page 3", "page 9")] + lines[3:],
        lines[:2] + lines[3:],
        [lines[1], lines[0], *lines[2:]],
    ):
        path.write_text("".join(broken))
        with pytest.raises(SystemExit, match="broken at line"):
            exec(code, {})


def test_no_append_hides_a_deletion_of_the_newest_entries(tmp_path):
    path = tmp_path / "access.jsonl"
    for n in range(3):
        log.append(path, "page-view", "a@x", page=f"P{n}")
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines[:2]))  # the newest entry deleted
    with pytest.raises(log.AccessLogBroken, match="tip records"):
        log.append(path, "page-view", "a@x", page="after")
    assert path.read_text() == "".join(lines[:2])  # nothing appended over it
    path.unlink()  # the whole log gone: refused too
    with pytest.raises(log.AccessLogBroken):
        log.append(path, "page-view", "a@x")
