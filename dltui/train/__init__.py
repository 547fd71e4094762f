"""The trainer process (`dltui run`): set-up, loop, the supervised and GAN epochs,
early stopping, optimizers, metrics, checkpoints, signals, progress output and DDP.

Only `dltui.train.cli`, `dltui.train.errors` and `dltui.train.early_stopping` are
safe to import without torch; every other module here imports torch at module level.
"""
