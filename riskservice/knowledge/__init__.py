"""Clinical knowledge as data (JSON), shipped as package data."""
