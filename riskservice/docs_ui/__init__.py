"""Static files of the /docs page (read with importlib.resources)."""
