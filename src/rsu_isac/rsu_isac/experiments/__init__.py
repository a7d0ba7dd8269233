"""Experiments that print figures and tables (each says how it was produced)."""
