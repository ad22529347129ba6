"""Demo warehouse: a deterministic, realistic Chinese omni-channel retailer in DuckDB.

`build_demo` (warehouse.demo) writes it; `CITIES` (warehouse.cities) lists its cities
with their Chinese names for the catalog's synonyms.
"""
