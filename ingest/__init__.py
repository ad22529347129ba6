"""Bring your own data: import files or databases into a ChatBI warehouse, with cleaning and a quality report.

    from ingest import import_sources, suggest_mapping, save_mapping
    mapping = suggest_mapping(["crm.csv", "orders.xlsx"])      # names → catalog columns
    save_mapping(mapping, "mapping.yaml")                      # edit, keep, reuse
    result = import_sources(load_mapping("mapping.yaml"), "shop.duckdb")
    result.report.to_html()                                    # the data-quality report

Every step after reading runs as SQL in DuckDB (``pipeline``), so a 10M-row CSV
imports in bounded memory. Rows that cannot be kept go to ``_quarantine`` with a
reason code; the report reconciles clean + quarantined = raw.
"""

from __future__ import annotations

from .mapping import MappingFile, load_mapping, save_mapping
from .pipeline import ImportResult, import_sources
from .report import QualityReport
from .suggest import suggest_mapping

__all__ = [
    "ImportResult",
    "MappingFile",
    "QualityReport",
    "import_sources",
    "load_mapping",
    "save_mapping",
    "suggest_mapping",
]
