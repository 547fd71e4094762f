"""dltui: build, train and watch deep-learning models from the terminal.

Importing this package is cheap: nothing here imports torch or Textual.
"""

__version__ = "0.1.0"
