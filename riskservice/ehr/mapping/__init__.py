"""EHR mapping tables (JSON data with cited codes), shipped as package data."""
