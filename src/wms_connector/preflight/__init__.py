"""Read-only Oracle preflight: is the database ready for the Debezium Oracle connector?

``queries`` (every statement, read-only guard) -> ``database`` (python-oracledb thin, the only
I/O) -> ``runner`` (order, deadline) -> ``checks`` (pure verdicts) with fixes cut from
``docs/sql`` by ``fixes``.
"""

from wms_connector.preflight.model import CheckResult, Expectations, Fix, QueryFailed, Status
from wms_connector.preflight.runner import Report, preflight, run_checks

__all__ = ["CheckResult", "Expectations", "Fix", "QueryFailed", "Report", "Status", "preflight", "run_checks"]
