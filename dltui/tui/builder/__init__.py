"""The layer-stack builder screen: `BuilderScreen(experiments_dir, path=None, template=None)`."""

from dltui.tui.builder.screen import BuilderScreen

__all__ = ["BuilderScreen"]
