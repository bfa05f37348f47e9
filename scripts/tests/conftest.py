# SPDX-License-Identifier: Apache-2.0
import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


@pytest.fixture
def cobench_bin():
    """The built `cobench` binary (scripts/test.sh sets COBENCH_BIN); skips without one."""
    path = os.environ.get("COBENCH_BIN")
    if not path or not Path(path).is_file():
        pytest.skip("COBENCH_BIN is not set to a built cobench binary (scripts/test.sh sets it)")
    return path
