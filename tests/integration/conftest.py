import os
import resource

import pytest

from harness import Breakwater, Postgres


def pytest_addoption(parser):
    parser.addoption("--breakwater", default=os.path.join(os.path.dirname(__file__), "../../build/breakwater"))
    parser.addoption("--sanitized", action="store_true",
                     help="the binary is an ASan/UBSan build: memory bounds apply to growth, not to absolute RSS")


@pytest.fixture
def sanitized(request):
    return request.config.getoption("--sanitized")


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
    if request.config.getoption("--sanitized"):
        for bw in started:
            reports = bw.sanitizer_reports()
            assert not reports, "the sanitized binary reported:\n" + "\n".join(reports)


@pytest.fixture
def breakwater(make_breakwater):
    return make_breakwater()
