"""`bluelight deploy --print`: the systemd units for the Prefect server, the nightly load and the
dashboard, filled in for this install, pass `systemd-analyze verify` and say what an operator
checks: an unprivileged account, the data directory the only writable path, restarts on
failure, started at boot, logs in the journal, the nightly load after the Prefect server."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import bluelight

from flows import deploy
from flows.settings import ENVIRONMENT, PROJECT_ROOT, SECRET_VARIABLES, TELEMETRY_OFF

PREFECT, SERVE, DASHBOARD = deploy.UNITS
SANDBOX = {
    "NoNewPrivileges": "yes",
    "ProtectSystem": "strict",
    "ProtectHome": "tmpfs",
    "PrivateTmp": "yes",
    "PrivateDevices": "yes",
    "CapabilityBoundingSet": "",
}


def systemd_analyze() -> str:
    found = shutil.which("systemd-analyze")
    if not found:
        pytest.skip(
            "systemd-analyze is not installed (apt-get install systemd); .ci/run installs it"
        )
    return found


def unit(text: str) -> dict[str, dict[str, list[str]]]:
    """A unit file's sections: each key's values in order (a key may come more than once)."""
    sections: dict[str, dict[str, list[str]]] = {}
    section = None
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            section = sections.setdefault(line.strip("[]"), {})
            continue
        key, value = line.split("=", 1)
        section.setdefault(key, []).append(value)
    return sections


def environment(service: dict[str, list[str]]) -> dict[str, str]:
    return dict(item.split("=", 1) for item in service.get("Environment", []))


def verify_problems(units: list[Path]) -> tuple[int, list[str]]:
    """`systemd-analyze verify`'s exit status and every line of its output naming one of
    `units` (it reports an unknown key or a bad value on a line naming the file, with status 0)."""
    done = subprocess.run(
        [systemd_analyze(), "verify", *map(str, units)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = (done.stdout + done.stderr).splitlines()
    return done.returncode, [line for line in output if any(u.name in line for u in units)]


@pytest.fixture(scope="module")
def written(tmp_path_factory) -> tuple[Path, Path, subprocess.CompletedProcess]:
    """The files `bluelight deploy --print --out` writes for data directory `home`."""
    root = tmp_path_factory.mktemp("deploy")
    home, out = root / "data", root / "units"
    done = subprocess.run(
        [sys.executable, "-m", "flows.cli", "deploy", "--print", "--home", str(home)]
        + ["--out", str(out)],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return home, out, done


def test_deploy_writes_units_that_systemd_verifies(written):
    _home, out, done = written
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [*deploy.UNITS, deploy.SETTINGS_TEMPLATE, deploy.ADMIN, deploy.INSTALL_SCRIPT]
    )
    status, problems = verify_problems([out / name for name in deploy.UNITS])
    assert (status, problems) == (0, [])
    # What `systemd-analyze security` makes of the sandbox: "OK" or better for each (3.1 on 252).
    for name in deploy.UNITS:
        done = subprocess.run(
            [systemd_analyze(), "security", "--offline=yes", str(out / name)],
            capture_output=True,
            text=True,
            timeout=120,
        )
        level = re.search(rf"Overall exposure level for {name}: ([\d.]+) (\w+)", done.stdout)
        assert level and float(level[1]) < 4 and level[2] in ("SAFE", "OK"), done.stdout[-300:]


def test_verify_finds_a_mistyped_directive_and_a_missing_command(written, tmp_path):
    """What the test above relies on: a unit systemd would half-ignore is caught."""
    _home, out, _done = written
    for name in deploy.UNITS:
        shutil.copy(out / name, tmp_path / name)
    serve = tmp_path / SERVE
    serve.write_text(serve.read_text().replace("ProtectSystem=strict", "ProtectSystem=stric"))
    dashboard = tmp_path / DASHBOARD
    dashboard.write_text(
        re.sub(r"ExecStart=\S+", "ExecStart=/nonexistent/bluelight", dashboard.read_text())
    )
    status, problems = verify_problems([tmp_path / name for name in deploy.UNITS])
    assert status != 0
    assert any(SERVE in line and "stric" in line for line in problems)
    assert any(DASHBOARD in line and "/nonexistent/bluelight" in line for line in problems)


def test_each_service_runs_sandboxed_as_bluelight_writing_only_the_data_directory(written):
    home, out, _done = written
    bin_dir = Path(sys.executable).parent
    for name in deploy.UNITS:
        sections = unit((out / name).read_text())
        service = sections["Service"]
        assert service["User"] == service["Group"] == ["bluelight"], name
        for key, value in SANDBOX.items():
            assert service[key] == [value], (name, key)
        assert service["ReadWritePaths"] == [str(home)], name  # the one writable path
        assert service["WorkingDirectory"] == [str(home)], name
        env = environment(service)
        assert env["BLUELIGHT_HOME"] == str(home)
        paths = [Path(v) for v in env.values() if v.startswith("/")]
        assert all(p == home or home in p.parents for p in paths), (name, paths)
        assert not set(env) & set(SECRET_VARIABLES), name  # secrets only in the settings file
        assert service["EnvironmentFile"] == [str(deploy.ENV_FILE)]
        assert service["Restart"] == ["on-failure"]
        assert service["StandardOutput"] == service["StandardError"] == ["journal"]
        assert sections["Install"]["WantedBy"] == ["multi-user.target"]
        command = service["ExecStart"][0].split()
        assert Path(command[0]).parent == bin_dir and Path(command[0]).is_file(), name
    # Prefect's database and UI files, and the services' caches (under HOME), are in the data
    # directory too.
    env = environment(unit((out / PREFECT).read_text())["Service"])
    assert env["HOME"] == str(home / deploy.SERVICES)
    assert env["PREFECT_HOME"] == str(home / deploy.SERVICES / "prefect")
    assert env["PREFECT_UI_STATIC_DIRECTORY"].startswith(env["PREFECT_HOME"])


def test_the_nightly_load_runs_after_the_prefect_server_it_is_scheduled_on(written):
    _home, out, _done = written
    prefect = unit((out / PREFECT).read_text())
    serve = unit((out / SERVE).read_text())
    dashboard = unit((out / DASHBOARD).read_text())
    assert PREFECT in serve["Unit"]["Requires"][0].split()
    assert PREFECT in serve["Unit"]["After"][0].split()
    command = prefect["Service"]["ExecStart"][0].split()
    assert command[1:4] == ["server", "start", "--host"]
    host, port = command[4], command[command.index("--port") + 1]
    assert host == "127.0.0.1"  # the Prefect server is not reachable from other machines
    assert environment(serve["Service"])["PREFECT_API_URL"] == f"http://{host}:{port}/api"
    assert serve["Service"]["ExecStart"][0].endswith("/bluelight serve")
    # Prefect's server process does not read flows/settings.py: its unit switches telemetry off.
    assert TELEMETRY_OFF.items() <= environment(prefect["Service"]).items()
    # The dashboard serves loopback unless the settings file sets DASHBOARD_HOST.
    assert dashboard["Service"]["ExecStart"][0].endswith(
        "/bluelight dashboard --host ${DASHBOARD_HOST}"
    )
    assert environment(dashboard["Service"])["DASHBOARD_HOST"] == "127.0.0.1"


def test_the_settings_file_names_only_real_settings_and_the_script_installs_in_order(written):
    home, out, _done = written
    settings_text = (out / deploy.SETTINGS_TEMPLATE).read_text()
    named = set(re.findall(r"^#?([A-Z][A-Z_]+)=", settings_text, re.MULTILINE))
    assert "BLUELIGHT_SECRETS_FILE" in named
    assert named - set(ENVIRONMENT) == {"DASHBOARD_HOST"}
    assert not [line for line in settings_text.splitlines() if line and not line.startswith("#")]

    script = out / deploy.INSTALL_SCRIPT
    assert script.stat().st_mode & 0o111
    assert subprocess.run(["sh", "-n", str(script)]).returncode == 0
    text = script.read_text()
    steps = ["useradd --system", f"install -d -o bluelight -g bluelight -m 0750 {home} "]
    steps += ["/etc/systemd/system/", "/usr/local/sbin/", "systemctl daemon-reload"]
    steps += ["systemctl enable --now"]
    assert [text.index(step) for step in steps] == sorted(text.index(step) for step in steps)
    assert f"[ -e {deploy.ENV_FILE} ] || install -m 0600" in text  # an edited file is kept


def test_stdout_has_each_file_and_wrong_uses_exit_2(tmp_path, capsys):
    home = tmp_path / "data"
    assert bluelight(home, "deploy", "--print") == 0
    printed = capsys.readouterr().out
    for name in (*deploy.UNITS, deploy.SETTINGS_TEMPLATE, deploy.ADMIN, deploy.INSTALL_SCRIPT):
        assert f"# ==> {name} <==" in printed
    assert f"ReadWritePaths={home}" in printed

    assert bluelight(home, "deploy") == 2
    assert "--print" in capsys.readouterr().err
    assert bluelight(home, "deploy", "--print", "--user", "root") == 2
    assert "unprivileged" in capsys.readouterr().err
    assert bluelight(home, "deploy", "--print", "--home", "/home/analyst/bluelight") == 2
    error = capsys.readouterr().err
    assert "ProtectHome" in error and "/srv/bluelight" in error
    assert bluelight(home, "deploy", "--print", "--home", "/srv/blue light") == 2
    assert "no spaces" in capsys.readouterr().err


def test_what_the_services_read_under_a_home_folder_is_bound_in_read_only():
    """A venv's python is a link to the Python it was made with, which pyenv keeps in a home
    folder: the sandbox hides those, so the units bind it in, read-only, and nothing else."""
    python = Path("/root/.pyenv/versions/3.11.7")
    assert deploy.read_only_binds([Path("/opt/bl/.venv"), Path("/opt/bl"), python]) == (python,)
    assert deploy.read_only_binds([Path("/opt/bl/.venv"), Path("/opt/bl"), Path("/usr")]) == ()
    install = [Path("/home/a/bl/.venv"), Path("/home/a/bl"), Path("/usr/local")]
    assert deploy.read_only_binds(install) == (Path("/home/a/bl"),)


def test_this_install_s_python_is_reachable_from_the_sandbox(tmp_path):
    base = Path(sys.base_prefix).resolve()
    text = deploy.render(deploy.install_for(tmp_path / "data", "bluelight"))[SERVE]
    hidden = any(h in base.parents for h in deploy.HIDDEN)
    assert (f"BindReadOnlyPaths={base}\n" in text) == hidden


@pytest.mark.skipif(os.geteuid() != 0, reason="bluelight-admin runs as root")
def test_bluelight_admin_runs_bluelight_on_the_data_directory_with_the_services_settings(tmp_path):
    """The operator's commands by hand run as the services do: the settings file read, the data
    directory theirs. (As root here: a pyenv Python in root's home is not the service account's
    to run.)"""
    home, settings = tmp_path / "data", tmp_path / "bluelight.env"
    settings.write_text(
        f"# as the services read it\nBLUELIGHT_ACCESS_LOG={tmp_path}/audit/log.jsonl\n"
        'BLUELIGHT_SCHEDULE_CRON="0 3 * * *"\n'
    )
    install = deploy.Install(bin_dir=Path(sys.executable).parent, home=home, user="root")
    admin = tmp_path / deploy.ADMIN
    admin.write_text(
        deploy.render(install)[deploy.ADMIN].replace(str(deploy.ENV_FILE), str(settings))
    )
    assert subprocess.run(["sh", "-n", str(admin)]).returncode == 0

    done = subprocess.run(
        ["sh", str(admin), "access-log", "--verify"], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert f"{tmp_path}/audit/log.jsonl" in done.stdout  # the settings file's, not the default
    done = subprocess.run(["sh", str(admin), "init"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert (home / "inbox" / "incidents").is_dir()  # BLUELIGHT_HOME is the units' data directory
    as_nobody = subprocess.run(  # the script on its standard input: nobody reads no tmp_path
        ["runuser", "-u", "nobody", "--", "sh", "-s", "status"],
        input=admin.read_text(),
        capture_output=True,
        text=True,
    )
    assert as_nobody.returncode == 2 and "run it as root" in as_nobody.stderr
