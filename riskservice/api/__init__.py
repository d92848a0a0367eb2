"""HTTP adapters: thin blueprints around the pure core."""
