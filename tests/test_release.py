"""The release: the wheel holds every file LPS serves, its metadata says what it needs, `lps --version`
answers, and a configuration error at start-up is one line that names the setting.

The full install (the wheels of LPS and its plugins in a fresh virtualenv, PostgreSQL, every staff
screen) is .ci/wheel-smoke, run by .ci/run.
"""
import http.client
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import time
import zipfile
from email.parser import Parser
from importlib.metadata import entry_points
from pathlib import Path

import pytest

from lps_core.cli import main as lps_main
from lps_core.testing import TEST_SETTINGS

ROOT = Path(__file__).resolve().parent.parent
CORE = ROOT / "lps_core"
BIN = Path(sys.executable).parent


def tree_files(package: Path) -> set[str]:
    """Every file under the package, as a wheel names it, without compiled Python."""
    return {path.relative_to(package.parent).as_posix() for path in package.rglob("*")
            if path.is_file() and "__pycache__" not in path.parts and path.suffix not in (".pyc", ".pyo")}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> zipfile.ZipFile:
    """The wheel of lps, built by pip from a copy of the checkout (as a fresh clone would build it)."""
    work = tmp_path_factory.mktemp("wheel")
    source = work / "lps"
    source.mkdir()
    for name in ("setup.cfg", "pyproject.toml", "MANIFEST.in", "README.md", "LICENSE", "CHANGELOG.md"):
        shutil.copy2(ROOT / name, source / name)
    shutil.copytree(CORE, source / "lps_core", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", work / "dist",
                    source], check=True, capture_output=True)
    (built,) = (work / "dist").glob("lps-*.whl")
    with zipfile.ZipFile(built) as archive:
        yield archive


def test_the_wheel_holds_every_file_of_lps_core(wheel):
    in_wheel = {name for name in wheel.namelist() if name.startswith("lps_core/")}
    in_tree = tree_files(CORE)
    assert in_tree - in_wheel == set(), "files of lps_core missing from the wheel"
    assert in_wheel - in_tree == set(), "files in the wheel that lps_core does not have"
    # What the screens need is there: every folder of templates, the static files, compiled catalogs.
    folders = {Path(name).parent.as_posix() for name in in_wheel}
    assert {"lps_core/screens/members/templates", "lps_core/screens/desk/templates",
            "lps_core/screens/config/templates", "lps_core/screens/shell/templates",
            "lps_core/screens/shell/static", "lps_core/receipts/templates",
            "lps_core/db/migrations/versions"} <= folders
    assert any(name.endswith(".mo") for name in in_wheel)


def test_the_wheel_metadata(wheel):
    metadata = Parser().parsestr(wheel.read(next(n for n in wheel.namelist() if n.endswith(".dist-info/METADATA")))
                                 .decode())
    requires = [line.split(";")[0].strip() for line in metadata.get_all("Requires-Dist")]
    assert not [line for line in requires if line.lower().startswith("pyserial")], "pyserial is the serial driver's"
    assert {"pydantic>=2.7", "phonenumbers>=8.13"} <= set(requires)
    assert metadata["License"] == "Apache-2.0" or metadata["License-Expression"] == "Apache-2.0"
    assert any(name.endswith(".dist-info/licenses/LICENSE") for name in wheel.namelist())
    entry_points_txt = wheel.read(next(n for n in wheel.namelist() if n.endswith(".dist-info/entry_points.txt")))
    assert b"points_tiers = lps_core.tiers.points_threshold" in entry_points_txt


def test_the_default_tier_model_ships_with_lps():
    (entry_point,) = [ep for ep in entry_points(group="lps") if ep.name == "points_tiers"]
    assert entry_point.dist.name == "lps"


def test_core_does_not_need_pyserial():
    imports = [str(path) for path in CORE.rglob("*.py")
               if "import serial" in path.read_text(encoding="utf-8")
               or "from serial" in path.read_text(encoding="utf-8")]
    assert imports == []
    driver = (ROOT / "drivers" / "lps-serial-reader" / "setup.cfg").read_text(encoding="utf-8")
    assert "pyserial>=" in driver


def test_lps_version(capsys):
    from importlib.metadata import version

    with pytest.raises(SystemExit) as exit_:
        lps_main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out.strip() == f"lps {version('lps')}"


@pytest.mark.parametrize(("settings", "message"), [
    ("", "lps: configuration error: no keys for personal data: set lps.pii.keys and lps.pii.index_key "
         "(or LPS_PII_KEYS and LPS_PII_INDEX_KEY); see docs/security.md"),
    ("lps.plugins.required = no_such_plugin\n",
     "lps: configuration error: required plugin(s) not installed or disabled: no_such_plugin "
     "(lps.plugins.required)"),
    ("lps.tiers.window = fortnight\n",
     "lps: configuration error: lps.tiers.window must be one of calendar_year, rolling_12_months, "
     "not 'fortnight'"),
])
def test_a_configuration_error_at_pserve_start_up_is_one_line(tmp_path, settings, message):
    pii = "" if not settings else "".join(f"{key} = {value}\n" for key, value in TEST_SETTINGS.items())
    ini = tmp_path / "broken.ini"

    def write_ini(extra):
        ini.write_text(f"[app:main]\nuse = egg:lps\nsqlalchemy.url = sqlite:///{tmp_path}/lps.sqlite\n{pii}{extra}"
                       "\n[server:main]\nuse = egg:waitress#main\nlisten = 127.0.0.1:0\n", encoding="utf-8")

    env = {"PATH": str(BIN), "HOME": str(tmp_path)}
    if settings:  # the database must exist for the start-up checks that follow the settings; `lps` checks them too
        write_ini("")
        subprocess.run([BIN / "lps", "-c", ini, "db", "upgrade"], env=env, check=True, capture_output=True)
    write_ini(settings)
    started = subprocess.run([BIN / "pserve", ini], env=env, capture_output=True, text=True, timeout=120)
    assert started.returncode == 1
    assert started.stderr.strip() == message
    assert "Traceback" not in started.stdout + started.stderr


# --- The install paths of docs/install.md and docs/deployment.md, as written ---------------------
# The commands run as the pages give them. Only what names this machine changes: the virtualenv
# (this one, with LPS installed), the database (a fresh SQLite file: creating a PostgreSQL role
# needs a superuser and a password prompt), /opt/lps and /etc/lps paths, and the port.

def shell_blocks(text) -> list[str]:
    """The ```sh blocks of a Markdown text, without their indentation."""
    return [textwrap.dedent(block) for block in re.findall(r"(?m)^[ ]*```sh\n(.*?)^[ ]*```", text, re.DOTALL)]


def section(name, heading) -> str:
    text = (ROOT / "docs" / name).read_text(encoding="utf-8")
    start = text.index(heading)
    following = re.search(r"(?m)^#{1,2} ", text[start + len(heading):])
    return text[start:start + len(heading) + following.start()] if following else text[start:]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serves_the_sign_in_page(command, env, cwd) -> str:
    """Starts `command` (a pserve), waits for /login over HTTPS as nginx forwards it, stops it."""
    port = free_port()
    server = subprocess.Popen(["bash", "-c", command.replace("6543", str(port))], env=env, cwd=cwd,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and server.poll() is None:
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                connection.request("GET", "/login", headers={"X-Forwarded-Proto": "https"})
                return f"{connection.getresponse().status}"
            except OSError:
                time.sleep(0.3)
        return f"not serving: {server.communicate(timeout=10)[0] if server.poll() is not None else 'timeout'}"
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(20)


def test_install_md_postgresql_steps_work_as_written(tmp_path):
    blocks = shell_blocks(section("install.md", "## PostgreSQL"))
    (environment,) = [block for block in blocks if "export LPS_DATABASE_URL=" in block]
    (start,) = [block for block in blocks if "db upgrade" in block]
    database = f"sqlite:///{tmp_path}/lps.sqlite"
    script = re.sub(r"(?m)^export LPS_DATABASE_URL=.*$", f"export LPS_DATABASE_URL={database}", environment)
    script = script.replace(".venv/bin/", f"{BIN}/")
    upgrade, serve = [line.replace(".venv/bin/", f"{BIN}/") for line in start.strip().splitlines()]
    env = {"PATH": f"{BIN}:/usr/bin:/bin", "HOME": str(tmp_path)}
    exported = subprocess.run(["bash", "-ec", f"{script}\n{upgrade}\nenv"], env=env, cwd=ROOT, check=True,
                              capture_output=True, text=True).stdout
    variables = dict(line.split("=", 1) for line in exported.splitlines() if line.startswith("LPS_"))
    assert set(variables) == {"LPS_DATABASE_URL", "LPS_SESSION_SECRET", "LPS_PII_KEYS", "LPS_PII_INDEX_KEY"}
    assert serves_the_sign_in_page(serve, {**env, **variables}, ROOT) == "200"


def test_production_ini_logs_waitress_errors_but_not_its_queue_depth():
    """Under load nearly every request finds waitress's threads busy (docs/deployment.md)."""
    script = ("import logging; from pyramid.paster import setup_logging; setup_logging(%r); "
              "logging.getLogger('waitress.queue').warning('Task queue depth is 3'); "
              "logging.getLogger('waitress').error('socket error'); "
              "logging.getLogger('waitress.queue').error('queue broken')") % str(ROOT / "config" / "production.ini")
    logged = subprocess.run([sys.executable, "-c", script], check=True, capture_output=True, text=True).stderr
    assert "socket error" in logged and "queue broken" in logged
    assert "Task queue depth" not in logged


def test_deployment_md_environment_file_and_processes_work_as_written(tmp_path):
    text = (ROOT / "docs" / "deployment.md").read_text(encoding="utf-8")
    local = {"/opt/lps/venv/bin/": f"{BIN}/", "/opt/lps/config/production.ini": str(ROOT / "config" / "production.ini"),
             "/etc/lps/lps.env": str(tmp_path / "lps.env")}

    def here(line):
        for path, replacement in local.items():
            line = line.replace(path, replacement)
        return line

    env = {"PATH": f"{BIN}:/usr/bin:/bin", "HOME": str(tmp_path)}
    (env_file,) = [block for block in shell_blocks(section("deployment.md", "## 2.")) if "LPS_SESSION_SECRET=" in block]
    lines = []
    for line in env_file.strip().splitlines():  # fill in each "<output of: COMMAND>" by running it
        name, _, value = line.partition("=")
        made = re.fullmatch(r"<output of: (.*)>", value)
        if name == "LPS_DATABASE_URL":
            value = f"sqlite:///{tmp_path}/lps.sqlite"
        elif made:
            value = subprocess.run(["bash", "-c", here(made.group(1))], env=env, check=True, capture_output=True,
                                   text=True).stdout.strip()
        lines.append(f"{name}={value}")
    (tmp_path / "lps.env").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (migrate,) = [block for block in shell_blocks(section("deployment.md", "## 3.")) if "db upgrade" in block]
    listed = subprocess.run(["bash", "-ec", here(migrate)], env=env, check=True, capture_output=True, text=True).stdout
    assert "base_rate" in listed and "points_tiers" in listed  # the formula and the tier model, by name
    (processes,) = [block for block in shell_blocks(section("deployment.md", "## 4.")) if "pserve" in block]
    first = here(processes.strip().splitlines()[0])
    assert first.endswith("http_port=6543")
    environment = dict(line.split("=", 1) for line in lines)
    assert serves_the_sign_in_page(f"{BIN}/{first}", {**env, **environment}, tmp_path) == "200"
