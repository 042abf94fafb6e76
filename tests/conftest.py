"""Fixtures shared by every test package."""

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data`` next to the repository root (not the working directory).

    CI always has it, so there a missing folder fails the test; on a developer's machine
    without it the test is skipped with that reason.
    """
    if SHARED_DATA.is_dir():
        return SHARED_DATA
    message = f"shared data not found at {SHARED_DATA}"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)
