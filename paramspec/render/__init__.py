"""Rendering shared by every command: units, the per-tensor table, the module tree, and
tables for a terminal (rich, folded to the terminal's width)."""
