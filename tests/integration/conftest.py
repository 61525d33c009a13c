import os
import resource

import pytest

from harness import Breakwater, Postgres


def pytest_addoption(parser):
    parser.addoption("--breakwater", default=os.path.join(os.path.dirname(__file__), "../../build/breakwater"))
    parser.addoption("--sanitized", action="store_true",
                     help="the binary is an ASan/UBSan build: memory bounds apply to growth, not to absolute "
                          "RSS, and a sanitizer report from any of its processes fails the test")


@pytest.fixture
def sanitized(request):
    return request.config.getoption("--sanitized")


@pytest.fixture(scope="session")
def sanitizer_report_dir(request, tmp_path_factory):
    """Under --sanitized, every process of the binary (the harness's, daemons, command
    line runs) writes its ASan, LeakSanitizer and UBSan reports to a file of its own
    here (`report.<pid>`) rather than to an output nobody may read."""
    if not request.config.getoption("--sanitized"):
        yield None
        return
    folder = tmp_path_factory.mktemp("sanitizer-reports")
    saved = {name: os.environ.get(name) for name in ("ASAN_OPTIONS", "UBSAN_OPTIONS")}
    for name, value in saved.items():
        os.environ[name] = ":".join(filter(None, [value, f"log_path={folder}/report"]))
    yield folder
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


@pytest.fixture(autouse=True)
def no_sanitizer_reports(sanitizer_report_dir):
    """Fails the test whose processes wrote a sanitizer report: one that ends the
    pooler mid-test fails the test's next step anyway, but one at the very end (the
    last client's close, the leak check as it exits) would pass unseen. Set up before
    the test's own fixtures, so checked after they stopped their processes."""
    before = set(os.listdir(sanitizer_report_dir)) if sanitizer_report_dir else set()
    yield
    if sanitizer_report_dir is None:
        return
    new = sorted(set(os.listdir(sanitizer_report_dir)) - before)
    reports = [open(os.path.join(sanitizer_report_dir, name), errors="replace").read() for name in new]
    assert not reports, "the sanitized binary reported:\n" + "\n".join(text[:4000] for text in reports)


@pytest.fixture(scope="session", autouse=True)
def open_files_limit():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


@pytest.fixture(scope="session")
def postgres():
    pg = Postgres()
    pg.start()
    yield pg
    pg.stop()


@pytest.fixture
def make_breakwater(request, postgres, tmp_path):
    """Factory: make_breakwater(settings={...}, databases={...}) starts a fresh instance."""
    started = []
    binary = os.path.abspath(request.config.getoption("--breakwater"))
    os.chmod(tmp_path, 0o755)

    def make(start=True, **kwargs):
        bw = Breakwater(binary, postgres, str(tmp_path), **kwargs)
        started.append(bw)
        return bw.start() if start else bw

    yield make
    for bw in started:
        bw.stop()


@pytest.fixture
def breakwater(make_breakwater):
    return make_breakwater()
