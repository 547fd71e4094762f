"""The trainer process (`dltui run`): loop, early stopping, optimizers, metrics,
checkpoints, signals, progress output and DDP.

Only `dltui.train.cli` and `dltui.train.early_stopping` are safe to import
without torch; every other module here imports torch at module level.
"""
