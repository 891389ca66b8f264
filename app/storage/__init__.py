"""The storage tree: safe paths, stable ids, bookkeeping and atomic writes."""
