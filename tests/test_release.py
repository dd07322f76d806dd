"""The release: the wheel holds every file LPS serves, its metadata says what it needs, `lps --version`
answers, and a configuration error at start-up is one line that names the setting.

The full install (the wheels of LPS and its plugins in a fresh virtualenv, PostgreSQL, every staff
screen) is .ci/wheel-smoke, run by .ci/run.
"""
import shutil
import subprocess
import sys
import zipfile
from email.parser import Parser
from importlib.metadata import entry_points
from pathlib import Path

import pytest

from lps_core.cli import main as lps_main
from lps_core.testing import PII_SETTINGS

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
    assert {"lps_core/members/templates", "lps_core/desk/templates", "lps_core/admin/templates",
            "lps_core/web/templates", "lps_core/web/static", "lps_core/receipts/templates",
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
    pii = "" if not settings else "".join(f"{key} = {value}\n" for key, value in PII_SETTINGS.items())
    ini = tmp_path / "broken.ini"
    ini.write_text(f"[app:main]\nuse = egg:lps\nsqlalchemy.url = sqlite:///{tmp_path}/lps.sqlite\n{pii}{settings}"
                   "\n[server:main]\nuse = egg:waitress#main\nlisten = 127.0.0.1:0\n", encoding="utf-8")
    env = {"PATH": str(BIN), "HOME": str(tmp_path)}
    if settings:  # the database must exist for the start-up checks that follow the settings
        subprocess.run([BIN / "lps", "-c", ini, "db", "upgrade"], env=env, check=True, capture_output=True)
    started = subprocess.run([BIN / "pserve", ini], env=env, capture_output=True, text=True, timeout=120)
    assert started.returncode == 1
    assert started.stderr.strip() == message
    assert "Traceback" not in started.stdout + started.stderr
