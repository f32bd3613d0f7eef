"""Importing this module registers every check family with checks.registry."""
