"""Reports of one run split over machines or CI jobs (pytest-split groups, say), joined into the report the
unsplit run writes: every row once, ordered by node id as the writer orders them, its columns in the
writer's order. Reports written under other framework versions are refused unless allowed, since their
rows would not be one run's."""

from __future__ import annotations

from cwtest.core.errors import InputError
from cwtest.report.reader import Report, metric_columns, version_columns
from cwtest.report.writer import HEAD


def merge(reports: list[Report], allow_versions: bool = False) -> tuple[list[str], list[dict]]:
    first = reports[0]
    for other in reports[1:]:
        differing = {name for name in set(first.versions) | set(other.versions)
                     if first.versions.get(name) != other.versions.get(name)}
        if differing and not allow_versions:
            name = sorted(differing)[0]
            raise InputError(f"{other.path}: written with {name} {other.versions.get(name) or 'not installed'}, "
                             f"{first.path} with {first.versions.get(name) or 'not installed'}; these are not "
                             f"shards of one run (--allow-versions joins them anyway)")
    rows: dict[str, dict[str, str]] = {}
    for report in reports:
        for nodeid, row in report.rows.items():
            if nodeid in rows:
                raise InputError(f"{report.path}: {nodeid} is in another report too; shards of one run share no test")
            rows[nodeid] = row
    metrics = sorted({c for r in reports for c in metric_columns(r.columns)})
    versions = list(dict.fromkeys(c for r in reports for c in version_columns(r.columns)))
    return [*HEAD, *metrics, *versions], [rows[nodeid] for nodeid in sorted(rows)]
