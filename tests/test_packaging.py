"""The image and the runtime requirements carry no test tools."""

from __future__ import annotations

import re

from socstat.settings import PROJECT_ROOT

TEST_TOOLS = {"pytest", "playwright", "hypothesis", "ruff", "aiosmtpd", "pytest-asyncio"}


def _names(requirements: str) -> set[str]:
    text = (PROJECT_ROOT / requirements).read_text()
    return {
        re.split(r"[=<>\[ ;]", line.strip(), maxsplit=1)[0].lower()
        for line in text.splitlines()
        if line.strip() and not line.lstrip().startswith(("#", "-"))
    }


def test_runtime_requirements_hold_no_test_tools():
    assert not _names("requirements.txt") & TEST_TOOLS
    assert {"pytest", "playwright", "hypothesis"} <= _names("requirements-dev.txt")


def test_dockerfile_installs_runtime_requirements_and_weasyprint_libraries():
    dockerfile = (PROJECT_ROOT / "Dockerfile").read_text()
    assert "requirements-dev" not in dockerfile
    assert "pip install -r requirements.txt" in dockerfile
    assert "libpango-1.0-0" in dockerfile and "libpangoft2-1.0-0" in dockerfile
