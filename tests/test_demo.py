"""`make demo` as a user runs it (scripts/demo.sh), in temporary folders: twice, to prove re-runs are safe."""

from __future__ import annotations

import os
import re
import subprocess

import pytest

from etl import archive, source
from etl.mail import recipients
from tests.support.db import REPO
from tests.support.pii_scan import scan

pytestmark = pytest.mark.slow


def test_demo_runs_the_dag_prints_its_outputs_and_is_safe_to_rerun(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "EB_"))}
    env.update(
        EB_DATA_DIR=str(tmp_path / "data"),
        EB_DEMO_DB=str(tmp_path / "demo" / "source.db"),
        EB_PSEUDONYM_KEY_FILE=str(tmp_path / "demo" / "pseudonym.key"),
        AIRFLOW_HOME=str(tmp_path / "airflow"),
    )
    outputs = []
    for _ in range(2):
        proc = subprocess.run(
            ["bash", str(REPO / "scripts" / "demo.sh")], env=env, capture_output=True, text=True, timeout=900
        )
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
        outputs.append(proc.stdout)

    package = tmp_path / "data" / "archive" / "2018" / "T1" / "v1"
    # Each `dags test` is a new run id, which the workbooks' "Om statistiken" names: the re-run
    # is archived as v2 beside the untouched v1, and nobody is e-mailed the same figures again.
    for out, version in zip(outputs, ("v1", "v2"), strict=True):
        assert f"Klart. Arkivpaket: {package.parent / version}" in out
        books = re.findall(r"Arbetsbok: (\S+)", out)
        assert len(books) == 4 and all(os.path.exists(b) for b in books)
    assert sorted(p.name for p in package.parent.iterdir()) == ["email_ledger", "v1", "v2"]
    ledger = package.parent / "email_ledger"
    assert len(list(ledger.glob("*.json"))) == len(recipients.recipient_addresses())  # once per recipient
    assert len(list((tmp_path / "data" / "outbox" / "2018-T1").glob("*.eml"))) == len(
        recipients.recipient_addresses()
    )
    assert archive.verify(tmp_path / "data" / "archive") == []
    # Data Docs list every suite and result without scripts or network (GX's own list needs CDNs).
    index = (package / "validation" / "data_docs" / "index.html").read_text(encoding="utf-8")
    static = index[index.index('id="eb-static-index"') : index.index("</section>")]
    for table in source.TABLES:
        assert f'href="expectations/{table}.html"' in static
        assert re.search(rf'href="validations/{table}/[^"]+/{table}\.html"', static), table
    # No personnummer in staging, outputs, archive, Airflow's logs or database dumps of XCom.
    assert scan(tmp_path / "data") == {}
    assert scan(tmp_path / "airflow" / "logs") == {}
    assert scan(tmp_path / "airflow" / "demo-run.log") == {}
