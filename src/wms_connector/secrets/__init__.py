"""Secrets: their shapes (``shapes``, pure) and where they live with fallback (``store``)."""
