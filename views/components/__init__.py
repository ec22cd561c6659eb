"""Widgets and glue the pages share; each module is named for what it holds."""
