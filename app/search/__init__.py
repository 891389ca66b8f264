"""Full-text search: backends, KQL, extraction and indexing (docs/search.md)."""
