"""Experiment templates shipped with dltui (TOML files read by `dltui.builder.templates`)."""
