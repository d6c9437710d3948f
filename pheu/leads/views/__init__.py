"""Pages of leads and opportunities, one module per area (``records``, and those of later areas)."""
