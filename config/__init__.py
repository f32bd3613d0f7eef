"""Default settings and policy data, installed as `govscan.config` (see govscan/paths.py)."""
